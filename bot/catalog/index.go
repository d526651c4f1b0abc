package catalog

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Product is one catalogue entry as search sees it. Values are copies, but
// Categories and Coverage share memory with the snapshot: do not modify them.
type Product struct {
	ID         string
	Name       string
	Kind       string // bitrefill's type: conversation.KindGiftCard...
	Country    string // ISO 3166 alpha-2, or a region code for regional eSIMs
	Currency   string
	Categories []string
	InStock    bool
	Coverage   []string // eSIM plans: the countries where the plan works
}

// Summary is the product as a search result for the engine.
func (p Product) Summary() conversation.ProductSummary {
	return conversation.ProductSummary{ID: p.ID, Name: p.Name, Country: p.Country, Kind: p.Kind, InStock: p.InStock}
}

// fromAPI keeps what search needs of an API product.
func fromAPI(p bitrefill.Product) Product {
	return Product{
		ID: p.ID, Name: p.Name, Kind: string(p.Type), Country: strings.ToUpper(p.Country),
		Currency: p.Currency, Categories: p.Categories, InStock: p.InStock, Coverage: p.Coverage,
	}
}

// weak marks a posting from a category word rather than the name: it
// matches, but only as well as a typo would.
const weak = 1 << 31

// snapshot is an immutable index of the whole catalogue. Everything a search
// compares is computed here once: folded names, the names with their
// country words replaced by the country code, a sorted dictionary of every
// word with its letter set, and for each word the products that have it.
type snapshot struct {
	loaded   time.Time
	cards    map[string]bitrefill.Product // whole products by id (Catalog.Card)
	products []Product                    // sorted by folded name, then id: the final tie-break
	fold     []string                     // folded name
	foldID   []string                     // folded id, when it differs from the folded name
	canon    []string                     // folded name with the product's own country words as "\x00CC"; "" when the same

	words []string    // sorted, distinct
	masks []uint64    // letterMask of each word
	heads [2][]uint64 // letterMask of its first 3 and first 5 bytes: see matchWord
	post  []uint32    // postings of word i: post[at[i]:at[i+1]], product index | weak
	at    []uint32

	byCountry  map[string][]uint32 // direct country → products
	byCoverage map[string][]uint32 // coverage country → products (eSIMs)

	// meta packs what filters and ranking read of every product, so a scan
	// of the whole catalogue walks 8 bytes a product, not a Product.
	meta  []meta
	kinds map[string]uint16

	// free holds scratch memory for searches. Unlike a sync.Pool it is not
	// emptied by every garbage collection, which would make the unlucky
	// search after one allocate its arrays again.
	free chan *scratch
}

type meta struct {
	country uint16 // countryKey
	ncov    uint16 // how many countries an eSIM plan covers
	kind    uint16
	inStock bool
	words   uint8 // words in the name, not counting the product's own country
}

// countryKey packs an upper-case alpha-2 code; anything else is noCountry.
func countryKey(c string) uint16 {
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return noCountry
	}
	return uint16(c[0]-'A')*26 + uint16(c[1]-'A')
}

const noCountry = 1<<16 - 1

func (s *snapshot) getScratch() *scratch {
	select {
	case sc := <-s.free:
		return sc
	default:
		return newScratch(len(s.products))
	}
}

func (s *snapshot) putScratch(sc *scratch) {
	select {
	case s.free <- sc:
	default:
	}
}

// intern shares the many equal short strings (codes, kinds, category lists)
// between products.
type interner struct {
	s     map[string]string
	lists map[string][]string
}

func (in *interner) str(s string) string {
	if v, ok := in.s[s]; ok {
		return v
	}
	in.s[s] = s
	return s
}

func (in *interner) list(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	key := strings.Join(l, "\x00")
	if v, ok := in.lists[key]; ok {
		return v
	}
	c := make([]string, len(l))
	for i, s := range l {
		c[i] = in.str(s)
	}
	in.lists[key] = c
	return c
}

// build indexes products. Later duplicates of an id replace earlier ones, so
// a walk over pages that shifted while it ran still lists each product once.
func build(ps []Product, loaded time.Time) *snapshot {
	in := &interner{s: map[string]string{}, lists: map[string][]string{}}
	byID := make(map[string]int, len(ps))
	list := make([]Product, 0, len(ps))
	for _, p := range ps {
		if p.ID == "" {
			continue
		}
		p.Kind = in.str(p.Kind)
		p.Country = in.str(strings.ToUpper(p.Country))
		p.Currency = in.str(p.Currency)
		p.Categories = in.list(p.Categories)
		cov := make([]string, 0, len(p.Coverage))
		for _, c := range p.Coverage {
			cov = append(cov, strings.ToUpper(c))
		}
		p.Coverage = in.list(cov)
		if p.Name == "" {
			p.Name = p.ID
		}
		if i, ok := byID[p.ID]; ok {
			list[i] = p
			continue
		}
		byID[p.ID] = len(list)
		list = append(list, p)
	}

	s := &snapshot{loaded: loaded, byCountry: map[string][]uint32{}, byCoverage: map[string][]uint32{},
		kinds: map[string]uint16{}, free: make(chan *scratch, 4)}
	folds := make([]string, len(list))
	for i, p := range list {
		folds[i] = Fold(p.Name)
	}
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(strings.Compare(folds[a], folds[b]), strings.Compare(list[a].ID, list[b].ID))
	})
	n := len(list)
	s.products = make([]Product, n)
	s.fold = make([]string, n)
	s.foldID = make([]string, n)
	s.canon = make([]string, n)
	s.meta = make([]meta, n)

	postings := map[string][]uint32{}
	add := func(w string, v uint32) {
		l := postings[w]
		if len(l) > 0 && l[len(l)-1]&^weak == v&^weak {
			if l[len(l)-1]&weak != 0 && v&weak == 0 {
				l[len(l)-1] = v // a name word beats a category word
			}
			return
		}
		postings[w] = append(l, v)
	}
	var buf []byte
	var words []string
	for k, i := range idx {
		p := list[i]
		v := uint32(k)
		s.products[k] = p
		s.fold[k] = folds[i]
		kind, ok := s.kinds[p.Kind]
		if !ok {
			kind = uint16(len(s.kinds))
			s.kinds[p.Kind] = kind
		}
		s.meta[k] = meta{country: countryKey(p.Country), ncov: uint16(min(len(p.Coverage), 1<<16-1)), kind: kind, inStock: p.InStock}
		fid := Fold(p.ID)
		if fid != folds[i] {
			s.foldID[k] = fid
		}
		words = words[:0]
		name := []byte(folds[i])
		forEachWord(name, func(a, b int) { words = append(words, folds[i][a:b]) })
		for j, w := range words {
			add(in.str(w), v)
			if j > 0 {
				// "Google Play" is found by "googleplay" too.
				add(in.str(words[j-1]+w), v)
			}
		}
		forEachWord([]byte(fid), func(a, b int) { add(in.str(fid[a:b]), v) })
		for _, c := range p.Categories {
			fc := Fold(c)
			forEachWord([]byte(fc), func(a, b int) { add(in.str(fc[a:b]), v|weak) })
		}
		buf = canonical(buf[:0], folds[i], p.Country)
		if string(buf) != folds[i] {
			s.canon[k] = string(buf)
		}
		nw := 0
		forEachWord(buf, func(a, _ int) {
			if buf[a] != 0 {
				nw++
			}
		})
		s.meta[k].words = uint8(min(nw, 255))
		if p.Country != "" {
			s.byCountry[p.Country] = append(s.byCountry[p.Country], v)
		}
		for _, c := range p.Coverage {
			if c != p.Country {
				s.byCoverage[c] = append(s.byCoverage[c], v)
			}
		}
	}
	s.words = make([]string, 0, len(postings))
	for w := range postings {
		s.words = append(s.words, w)
	}
	slices.Sort(s.words)
	s.masks = make([]uint64, len(s.words))
	s.heads[0] = make([]uint64, len(s.words))
	s.heads[1] = make([]uint64, len(s.words))
	s.at = make([]uint32, len(s.words)+1)
	total := 0
	for _, l := range postings {
		total += len(l)
	}
	s.post = make([]uint32, 0, total)
	for i, w := range s.words {
		s.masks[i] = letterMask(w)
		s.heads[0][i] = letterMask(w[:min(len(w), 3)])
		s.heads[1][i] = letterMask(w[:min(len(w), 5)])
		s.at[i] = uint32(len(s.post))
		s.post = append(s.post, postings[w]...)
	}
	s.at[len(s.words)] = uint32(len(s.post))
	return s
}

// canonical appends name with the words naming country (in any language the
// table knows, or as its code) replaced by "\x00" + code, so "Amazon Spain"
// and the query "amazon españa" meet as "amazon \x00ES".
func canonical(dst []byte, name string, country string) []byte {
	if country == "" {
		return append(dst, name...)
	}
	var starts, ends []int
	b := []byte(name)
	forEachWord(b, func(a, e int) { starts, ends = append(starts, a), append(ends, e) })
	for i := 0; i < len(starts); {
		matched := 0
		for l := min(maxCountryWords, len(starts)-i); l >= 1; l-- {
			phrase := name[starts[i]:ends[i+l-1]]
			if countryIndex[phrase] == country || (l == 1 && isoCodes[phrase] == country) {
				matched = l
				break
			}
		}
		if len(dst) > 0 {
			dst = append(dst, ' ')
		}
		if matched > 0 {
			dst = append(dst, 0)
			dst = append(dst, country...)
			i += matched
			continue
		}
		dst = append(dst, name[starts[i]:ends[i]]...)
		i++
	}
	return dst
}

// word returns the index of w in the dictionary, or -1.
func (s *snapshot) word(w []byte) int {
	i, ok := slices.BinarySearchFunc(s.words, w, cmpBytes)
	if !ok {
		return -1
	}
	return i
}

func (s *snapshot) postings(i int) []uint32 { return s.post[s.at[i]:s.at[i+1]] }
