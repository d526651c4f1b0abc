package bitrefill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pageLimit is the server's maximum page size.
const pageLimit = 50

// maxPages stops a walk over a server that never stops saying "next".
const maxPages = 10000

// Ping checks connectivity and credentials.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodGet, "/ping", nil, nil)
	return err
}

// Balance returns the account balance.
func (c *Client) Balance(ctx context.Context) (Balance, error) {
	var b Balance
	_, err := c.get(ctx, "/accounts/balance", nil, &b)
	return b, err
}

// ProductFilter narrows catalogue listings.
type ProductFilter struct {
	Country     string      // ISO 3166 alpha-2
	Type        ProductType // empty: all types
	IncludeTest bool        // include Bitrefill's test products
}

func (f ProductFilter) query() url.Values {
	q := url.Values{}
	if f.Country != "" {
		q.Set("country", strings.ToUpper(f.Country))
	}
	if f.Type != "" {
		q.Set("type", string(f.Type))
	}
	if f.IncludeTest {
		q.Set("include_test_products", "true")
	}
	return q
}

// ProductsPage returns one catalogue page; limit is capped at 50 (0 means 50).
func (c *Client) ProductsPage(ctx context.Context, f ProductFilter, start, limit int) (Page[Product], error) {
	return getPage[Product](ctx, c, "/products", f.query(), start, limit)
}

// Products returns the whole catalogue matching f. It pages by offset with
// the filter re-applied on every request rather than following meta._next,
// which the server may build without the filters.
func (c *Client) Products(ctx context.Context, f ProductFilter) ([]Product, error) {
	return getAll[Product](ctx, c, "/products", f.query(), 0)
}

// SearchFilter is a product search.
type SearchFilter struct {
	Query       string // 1–100 characters
	Country     string
	Start       int
	Limit       int // 0 means 50
	IncludeTest bool
}

// Search finds products by name; results carry packages.
func (c *Client) Search(ctx context.Context, f SearchFilter) (Page[Product], error) {
	q := ProductFilter{Country: f.Country, IncludeTest: f.IncludeTest}.query()
	q.Set("q", f.Query)
	return getPage[Product](ctx, c, "/products/search", q, f.Start, f.Limit)
}

// Product returns one product.
func (c *Client) Product(ctx context.Context, id string) (Product, error) {
	var p Product
	_, err := c.get(ctx, "/products/"+url.PathEscape(id), nil, &p)
	return p, err
}

// ESIMProducts returns all eSIM plan products.
func (c *Client) ESIMProducts(ctx context.Context) ([]Product, error) {
	return getAll[Product](ctx, c, "/products/esims", url.Values{}, 0)
}

// ESIMProduct returns one eSIM plan product.
func (c *Client) ESIMProduct(ctx context.Context, id string) (Product, error) {
	var p Product
	_, err := c.get(ctx, "/products/esims/"+url.PathEscape(id), nil, &p)
	return p, err
}

// CheckPhoneNumber finds the operator product for an E.164 number; operator
// (a product id) is optional and narrows the lookup. An unknown number is a
// not-found *Error.
func (c *Client) CheckPhoneNumber(ctx context.Context, phoneE164, operator string) (PhoneCheck, error) {
	q := url.Values{"phone_number": {phoneE164}}
	if operator != "" {
		q.Set("operator", operator)
	}
	resp, err := c.call(ctx, http.MethodGet, "/check_phone_number", q, nil)
	if err != nil {
		return PhoneCheck{}, err
	}
	pc, err := decodePhoneCheck(resp)
	if err != nil {
		return PhoneCheck{}, &Error{Status: http.StatusOK, Method: http.MethodGet,
			Endpoint: "/check_phone_number", Err: fmt.Errorf("%w: %v", errDecode, err)}
	}
	return pc, nil
}

// decodePhoneCheck reads data as a product (operator found), a list of
// products (ambiguous), or the newer {operator_found, operators: [{id, name}]}.
func decodePhoneCheck(resp *response) (PhoneCheck, error) {
	var pc PhoneCheck
	switch rawKind(resp.Data) {
	case '[':
		for _, raw := range rawArray(resp.Data) {
			var p Product
			if err := p.UnmarshalJSON(raw); err != nil {
				return pc, err
			}
			pc.Products = append(pc.Products, p)
		}
	case '{':
		f, err := decodeFields(resp.Data)
		if err != nil {
			return pc, err
		}
		if v, ok := f.bool("operator_found"); ok {
			pc.OperatorFound = v
			resp.OperatorFound = &v
		}
		ops := rawArray(f.get("operators"))
		for _, raw := range ops {
			g, err := decodeFields(raw)
			if err != nil {
				continue
			}
			pc.Operators = append(pc.Operators, Operator{ID: g.str("id", "slug", "product_id"), Name: g.str("name")})
		}
		for _, key := range []string{"products", "operator", "product"} {
			switch raw := f.get(key); rawKind(raw) {
			case '[':
				for _, el := range rawArray(raw) {
					var p Product
					if p.UnmarshalJSON(el) == nil {
						pc.Products = append(pc.Products, p)
					}
				}
			case '{':
				var p Product
				if p.UnmarshalJSON(raw) == nil {
					pc.Products = append(pc.Products, p)
				}
			}
		}
		if ops == nil && len(pc.Products) == 0 && f.has("id") {
			var p Product
			if err := p.UnmarshalJSON(resp.Data); err != nil {
				return pc, err
			}
			pc.Products = []Product{p}
		}
	case 0, 'n':
	default:
		return pc, errors.New("unexpected data")
	}
	if resp.OperatorFound != nil {
		pc.OperatorFound = *resp.OperatorFound
	} else {
		// No flag: one unambiguous match means found.
		pc.OperatorFound = len(pc.Products) == 1 && rawKind(resp.Data) == '{' && len(pc.Operators) <= 1
	}
	return pc, nil
}

// CreateInvoice creates an invoice. It is sent exactly once: on an ambiguous
// failure (errors.Is(err, ErrAmbiguous)) the invoice may exist; look for it
// with Invoices{After: <just before the call>} before trying again.
func (c *Client) CreateInvoice(ctx context.Context, r InvoiceRequest) (Invoice, error) {
	var inv Invoice
	err := c.post(ctx, "/invoices", r, &inv)
	return inv, err
}

// Invoice returns one invoice with its orders.
func (c *Client) Invoice(ctx context.Context, id string) (Invoice, error) {
	var inv Invoice
	_, err := c.get(ctx, "/invoices/"+url.PathEscape(id), nil, &inv)
	return inv, err
}

// ListFilter selects invoices or orders, newest first. With Limit 0 every
// page from Start on is fetched (mind the 60 requests / 10 min limit: set
// After); with Limit > 0 one page of at most Limit (capped at 50).
//
// After (inclusive) and Before (exclusive) bound the creation time. They are
// sent as whole-second RFC 3339 UTC, rounded outwards so the window only
// ever widens: looking up an invoice after an ambiguous POST must not miss it.
type ListFilter struct {
	Start, Limit  int
	After, Before time.Time
}

func (f ListFilter) query() url.Values {
	q := url.Values{}
	if !f.After.IsZero() {
		q.Set("after", f.After.UTC().Truncate(time.Second).Format(time.RFC3339))
	}
	if !f.Before.IsZero() {
		b := f.Before.UTC()
		if t := b.Truncate(time.Second); !t.Equal(b) {
			b = t.Add(time.Second)
		}
		q.Set("before", b.Format(time.RFC3339))
	}
	return q
}

// Invoices lists the account's invoices; see ListFilter.
func (c *Client) Invoices(ctx context.Context, f ListFilter) ([]Invoice, error) {
	return listFiltered[Invoice](ctx, c, "/invoices", f)
}

// PayInvoice pays an unpaid balance invoice from the account balance. Like
// CreateInvoice it is never retried; a 403 means not enough funds and a 404
// an unknown or already-paid invoice.
func (c *Client) PayInvoice(ctx context.Context, id string) (Invoice, error) {
	var inv Invoice
	err := c.post(ctx, "/invoices/"+url.PathEscape(id)+"/pay", struct{}{}, &inv)
	return inv, err
}

// Order returns one order with its redemption info.
func (c *Client) Order(ctx context.Context, id string) (Order, error) {
	var o Order
	_, err := c.get(ctx, "/orders/"+url.PathEscape(id), nil, &o)
	return o, err
}

// Orders lists the account's orders; see ListFilter.
func (c *Client) Orders(ctx context.Context, f ListFilter) ([]Order, error) {
	return listFiltered[Order](ctx, c, "/orders", f)
}

// BuyESIM buys a new eSIM, or tops one up when a line has ESIMID, and
// returns the invoice. Never retried, like CreateInvoice.
func (c *Client) BuyESIM(ctx context.Context, r InvoiceRequest) (Invoice, error) {
	var inv Invoice
	err := c.post(ctx, "/esims", r, &inv)
	return inv, err
}

// ESIMs lists the account's eSIMs.
func (c *Client) ESIMs(ctx context.Context) ([]ESIM, error) {
	return getAll[ESIM](ctx, c, "/esims", url.Values{}, 0)
}

// FindESIMs finds the account's eSIMs whose activation string
// (barcode_value) is one of lpas, and returns them by LPA: how an order's
// ICCID is learned when the order does not name it, which is Bitrefill's
// documented shape. It reads GET /esims newest first and stops as soon as
// every LPA is found, so eSIMs bought moments ago cost one request however
// many orders ask. LPAs not found are absent from the map.
func (c *Client) FindESIMs(ctx context.Context, lpas ...string) (map[string]ESIM, error) {
	want := map[string]bool{}
	for _, l := range lpas {
		if l = strings.TrimSpace(l); l != "" {
			want[l] = true
		}
	}
	found := map[string]ESIM{}
	start := 0
	for range maxPages {
		if len(found) == len(want) {
			return found, nil
		}
		p, err := getPage[ESIM](ctx, c, "/esims", url.Values{}, start, pageLimit)
		if err != nil {
			return found, err
		}
		for _, e := range p.Items {
			if l := strings.TrimSpace(e.BarcodeValue); want[l] {
				found[l] = e
			}
		}
		if !p.Next || p.n == 0 {
			return found, nil
		}
		start = p.NextStart()
	}
	return found, nil
}

// OrdersOf fetches the orders of the given invoices with list calls
// (GET /orders from after on, 50 a page, redemption_info included) rather
// than one GET /orders/{id} each: a webhook burst of ten paid invoices costs
// one request instead of ten. after must be no later than the oldest
// invoice's creation. The list is newest first, and it stops at the page
// that holds the last of the invoices, not at after: invoices just paid are
// on the first page however many older orders after admits. Invoices with no
// order found are absent.
func (c *Client) OrdersOf(ctx context.Context, after time.Time, invoiceIDs ...string) (map[string][]Order, error) {
	if len(invoiceIDs) == 0 {
		return map[string][]Order{}, nil
	}
	return c.OrdersFor(ctx, after, func() []string { return invoiceIDs })
}

// OrdersFor is OrdersOf for the invoices ids returns when it is called:
// once, when the first page's turn in the request budget has come, just
// before it is sent (after any WithBeforeSend hook of ctx). A fetch that
// waited for its turn thus takes in every invoice paid meanwhile. ids must
// name invoices created at or after after; none at all sends nothing.
func (c *Client) OrdersFor(ctx context.Context, after time.Time, ids func() []string) (map[string][]Order, error) {
	want := map[string]bool{}
	out := map[string][]Order{}
	var once sync.Once
	outer, _ := ctx.Value(beforeSendKey{}).(func() error)
	ctx = WithBeforeSend(ctx, func() error {
		if outer != nil {
			if err := outer(); err != nil {
				return err
			}
		}
		once.Do(func() {
			for _, id := range ids() {
				want[id] = true
			}
		})
		if len(want) == 0 {
			return errNothingWanted
		}
		return nil
	})
	var all []Order
	seen := map[string]bool{}
	q, start := ListFilter{After: after}.query(), 0
	for range maxPages {
		p, err := getPage[Order](ctx, c, "/orders", q, start, pageLimit)
		if errors.Is(err, errNothingWanted) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, o := range p.Items {
			if want[o.InvoiceID] && !seen[o.ID] { // an order shifted by a newer one comes twice
				seen[o.ID] = true
				all = append(all, o)
				if _, ok := out[o.InvoiceID]; !ok {
					out[o.InvoiceID] = nil
				}
			}
		}
		// Every invoice found, and the page's last order belongs to none of
		// them (an invoice's orders are made together, so one that ends a
		// page may go on over the next): done.
		done := len(out) == len(want) && len(p.Items) > 0 && !want[p.Items[len(p.Items)-1].InvoiceID]
		if done || !p.Next || p.n == 0 {
			break
		}
		start = p.NextStart()
	}
	for _, o := range slices.Backward(all) { // oldest first, as in the invoice
		out[o.InvoiceID] = append(out[o.InvoiceID], o)
	}
	return out, nil
}

// errNothingWanted stops an OrdersFor list call whose ids turned out empty.
var errNothingWanted = errors.New("no invoice to list orders for")

// ESIM returns one eSIM by ICCID.
func (c *Client) ESIM(ctx context.Context, iccid string) (ESIM, error) {
	var e ESIM
	_, err := c.get(ctx, "/esims/"+url.PathEscape(iccid), nil, &e)
	return e, err
}

func listFiltered[T any](ctx context.Context, c *Client, path string, f ListFilter) ([]T, error) {
	if f.Limit > 0 {
		p, err := getPage[T](ctx, c, path, f.query(), f.Start, f.Limit)
		return p.Items, err
	}
	return getAll[T](ctx, c, path, f.query(), f.Start)
}

func getPage[T any](ctx context.Context, c *Client, path string, base url.Values, start, limit int) (Page[T], error) {
	if start < 0 {
		start = 0
	}
	if limit <= 0 || limit > pageLimit {
		limit = pageLimit
	}
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	q.Set("start", strconv.Itoa(start))
	q.Set("limit", strconv.Itoa(limit))
	var items []json.RawMessage
	resp, err := c.get(ctx, path, q, &items)
	if err != nil {
		return Page[T]{Start: start}, err
	}
	page := Page[T]{Start: start, Next: resp.Next, Items: make([]T, 0, len(items)), n: len(items)}
	for _, raw := range items {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			// One malformed element does not lose the page.
			c.log.Debug("bitrefill: skipping undecodable list element", "path", path, "error", err.Error())
			continue
		}
		page.Items = append(page.Items, v)
	}
	return page, nil
}

// getAll walks pages by offset until the server reports no next page or
// returns an empty one.
func getAll[T any](ctx context.Context, c *Client, path string, q url.Values, start int) ([]T, error) {
	var all []T
	for range maxPages {
		p, err := getPage[T](ctx, c, path, q, start, pageLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if !p.Next || p.n == 0 {
			return all, nil
		}
		start = p.NextStart()
	}
	return nil, &Error{Method: http.MethodGet, Endpoint: path,
		Message: fmt.Sprintf("more than %d pages", maxPages)}
}
