package bot

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"refillbot/bitrefill"
	"refillbot/bot/catalog"
	"refillbot/conversation"
)

// searchLimit is how many results a search gives the engine, which pages
// them; it is also the API's largest page.
const searchLimit = 50

// defaultCatalogSpec is how often Run asks the catalogue whether a refresh
// is due. The catalogue decides (every Options.RefreshEvery); the short
// period lets a refresh paused by its request budget go on a minute later.
const defaultCatalogSpec = "@every 1m"

// searchProducts answers SearchProducts from the local catalogue, or from
// the API's own search while the catalogue is not loaded yet or too old.
//
// The country means two things: for eSIMs it is the destination, and a plan
// must work there; for everything else it is the user's country, whose
// products come first without hiding the rest (a gift card for a friend
// abroad is a common purchase).
func (b *Bot) searchProducts(ctx context.Context, e conversation.SearchProducts) conversation.Event {
	q := catalog.Query{Text: e.Query, Kind: e.Kind, Category: e.Category, Limit: searchLimit}
	if e.Kind == conversation.KindESIM {
		q.Country = e.Country
	} else {
		q.Prefer = e.Country
	}
	cat := b.cfg.Catalog
	if cat != nil && !cat.Stale(b.cfg.Now()) {
		return productsFound(e.Query, cat.Search(q))
	}
	// The API's search needs words; browsing a category uses its name.
	words := strings.TrimSpace(e.Query)
	if words == "" {
		words = strings.TrimSpace(e.Category)
	}
	if words == "" {
		if cat != nil && cat.Len() > 0 {
			return productsFound(e.Query, cat.Search(q)) // an old catalogue beats none
		}
		b.log.Warn("browsing needs the catalogue, which is not loaded yet")
		return conversation.Failed{Op: conversation.OpSearch, Kind: conversation.ErrTemporary}
	}
	page, err := b.cfg.API.Search(ctx, bitrefill.SearchFilter{Query: truncateRunes(words, 100), Country: q.Country, Limit: searchLimit})
	if err != nil {
		if cat != nil && cat.Len() > 0 && !errors.Is(err, context.Canceled) {
			b.log.Warn("API search failed; answering from the old catalogue", "err", err)
			return productsFound(e.Query, cat.Search(q))
		}
		return b.failed(conversation.OpSearch, err)
	}
	return productsFound(e.Query, catalog.Rank(page.Items, q))
}

func productsFound(query string, ps []catalog.Product) conversation.ProductsFound {
	found := conversation.ProductsFound{Query: query, Products: make([]conversation.ProductSummary, len(ps))}
	for i, p := range ps {
		found.Products[i] = p.Summary()
	}
	return found
}

// truncateRunes cuts s to at most n characters (the API takes 1–100).
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// scheduleCatalog registers the catalogue refresh with Run's scheduler and
// starts the first refresh at once, so searches leave the API for memory as
// soon as possible rather than a period after start-up. Both go through the
// scheduler's chain: a panic is recovered and logged, and a refresh still
// running when the next tick comes is not started twice.
func (b *Bot) scheduleCatalog(ctx context.Context, c *cron.Cron) error {
	if b.cfg.Catalog == nil {
		return nil
	}
	spec := b.cfg.CatalogSpec
	if spec == "" {
		spec = defaultCatalogSpec
	}
	id, err := c.AddFunc(spec, func() { b.refreshCatalog(ctx) })
	if err != nil {
		return err
	}
	job := c.Entry(id).WrappedJob
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		job.Run()
	}()
	return nil
}

// refreshCatalog refreshes the catalogue when it is due. Failures are the
// catalogue's to log; it keeps serving the old snapshot meanwhile.
func (b *Bot) refreshCatalog(ctx context.Context) {
	cat := b.cfg.Catalog
	now := b.cfg.Now()
	if ctx.Err() != nil || !cat.Due(now) {
		return
	}
	// Background: a user's search or card goes first.
	if err := cat.Refresh(bitrefill.WithPriority(ctx, bitrefill.Background), now); err != nil {
		var paused *catalog.PausedError
		if errors.As(err, &paused) || errors.Is(err, catalog.ErrBusy) {
			b.log.Debug("catalogue refresh continues later", "err", err)
		}
	}
}
