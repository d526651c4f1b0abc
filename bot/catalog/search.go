package catalog

import (
	"math/bits"
	"slices"
	"strings"

	"refillbot/conversation"
)

// Query is one search. Every field is optional; an empty Text with a Kind,
// Category or Country browses.
type Query struct {
	// Text is what the user typed: brand words, maybe a country in English
	// or Spanish ("steam germany", "amazon españa", "netflix us"), typos
	// and all.
	Text string
	// Kind keeps only products of this type (conversation.KindGiftCard...).
	Kind string
	// Category keeps only products in this category ("games"), any case.
	Category string
	// Country keeps only products for this ISO alpha-2 country: sold in it,
	// or, for eSIM plans, working there (a local plan, or a regional or
	// global one whose coverage lists it).
	Country string
	// Prefer is the user's country: among equally good matches, its
	// products come first. It filters nothing.
	Prefer string
	// Limit is the most results returned; 0 means DefaultLimit.
	Limit int
}

// DefaultLimit is the number of results when Query.Limit is 0.
const DefaultLimit = 50

// Limits on what one query is made of, so a long paste cannot make a search
// slow: the first words count, the rest is ignored.
const (
	maxWords = 24
	maxTerms = 16 // text terms: one bit each in a uint16
	maxCtry  = 8  // country terms: one bit each in a uint8
)

// Match qualities of a word, best first.
const (
	qExact = iota
	qPrefix
	qFuzzy
)

type term struct {
	w       []byte // folded word
	country string // for country terms: the code
	last    []byte // for country terms: the last word of the phrase, matched literally
	stop    bool
	end     bool // the query's last word, maybe still being typed: one letter is a prefix too
}

// pstate is what one search learned about one product.
type pstate struct {
	gen     uint32 // the search that wrote it; older ones are garbage
	matched uint16 // text terms the product has
	good    uint16 // ... matched exactly or as a prefix, not only by a typo
	country uint8  // country terms the product is for
	direct  uint8  // ... directly or by name, not only through eSIM coverage
}

// scratch is a search's working memory, pooled per snapshot so that a
// search allocates nothing but its result.
type scratch struct {
	gen     uint32
	st      []pstate // per product
	touched []uint32
	fold    []byte
	canon   []byte
	join    []byte
	spans   [][2]int
	text    []term
	ctry    []term
	heap    []uint64
}

func newScratch(n int) *scratch {
	return &scratch{
		st:    make([]pstate, n),
		fold:  make([]byte, 0, maxFold+8),
		canon: make([]byte, 0, maxFold+8),
		join:  make([]byte, 0, maxFold+8),
		spans: make([][2]int, 0, maxWords),
		text:  make([]term, 0, maxTerms),
		ctry:  make([]term, 0, maxCtry),
	}
}

func (sc *scratch) touch(k uint32) *pstate {
	st := &sc.st[k]
	if st.gen != sc.gen {
		*st = pstate{gen: sc.gen}
		sc.touched = append(sc.touched, k)
	}
	return st
}

// The rank key of a result: smaller is better. From the most significant
// bit: the query named a country the product is not for; how many of the
// query's words it lacks; the tier (exact name, name prefix, all words,
// words with typos); out of stock; not in the user's country; only through
// eSIM coverage, and then the narrower plan; how many words the name has
// beyond those typed ("uber" finds Uber before Uber Eats); then the
// product's place in name order, so ties are broken the same way every
// time.
const (
	shiftCountryMiss = 63
	shiftMissing     = 59
	shiftTier        = 57
	shiftOutOfStock  = 56
	shiftNotPrefer   = 55
	shiftCoverage    = 54
	shiftBreadth     = 38 // 16 bits
	shiftExtra       = 35 // 3 bits
)

const (
	tierExact = iota
	tierPrefix
	tierWords
	tierFuzzy
)

// search appends the best matches for q to dst.
func (s *snapshot) search(dst []Product, q Query) []Product {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, len(s.products))
	if limit == 0 {
		return dst
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	sc.gen++
	if sc.gen == 0 {
		clear(sc.st)
		sc.gen = 1
	}
	sc.touched = sc.touched[:0]
	sc.heap = sc.heap[:0]
	f := s.keys(newFilter(q))

	sc.parse(q.Text, s)
	if len(sc.text) == 0 && len(sc.ctry) == 0 {
		if strings.TrimSpace(q.Text) != "" {
			return dst // only punctuation: nothing asked for
		}
		s.browse(sc, f, limit)
	} else {
		s.match(sc, f, limit)
	}
	return s.collect(sc, dst)
}

// parse folds the query and splits it into text terms and country terms.
func (sc *scratch) parse(text string, s *snapshot) {
	sc.fold = appendFold(sc.fold[:0], text)
	sc.spans = sc.spans[:0]
	sc.text, sc.ctry = sc.text[:0], sc.ctry[:0]
	sc.canon = sc.canon[:0]
	sc.join = sc.join[:0]
	forEachWord(sc.fold, func(a, b int) {
		if len(sc.spans) < maxWords {
			sc.spans = append(sc.spans, [2]int{a, b})
		}
	})
	fold := sc.fold
	n := len(sc.spans)
	for i := 0; i < n; {
		// A country, in words ("united kingdom", "españa") anywhere, or as
		// an ISO code ("us", "de") at the end after a brand: "tarjeta de
		// amazon" has no Germany in it.
		l := 0
		code := ""
		for m := min(maxCountryWords, n-i); m >= 1; m-- {
			phrase := fold[sc.spans[i][0]:sc.spans[i+m-1][1]]
			if c, ok := countryIndex[string(phrase)]; ok {
				l, code = m, c
				break
			}
			if m == 1 && i == n-1 && i > 0 {
				if c, ok := isoCodes[string(phrase)]; ok {
					l, code = 1, c
				}
			}
		}
		if len(sc.canon) > 0 {
			sc.canon = append(sc.canon, ' ')
		}
		if l > 0 && len(sc.ctry) < maxCtry {
			last := fold[sc.spans[i+l-1][0]:sc.spans[i+l-1][1]]
			sc.ctry = append(sc.ctry, term{w: fold[sc.spans[i][0]:sc.spans[i+l-1][1]], country: code, last: last})
			sc.canon = append(sc.canon, 0)
			sc.canon = append(sc.canon, code...)
			i += l
			continue
		}
		w := fold[sc.spans[i][0]:sc.spans[i][1]]
		sc.canon = append(sc.canon, w...)
		// "play station" is one word in the catalogue.
		if i+1 < n && s.joins(w, fold[sc.spans[i+1][0]:sc.spans[i+1][1]], sc) {
			next := fold[sc.spans[i+1][0]:sc.spans[i+1][1]]
			sc.canon = append(sc.canon, ' ')
			sc.canon = append(sc.canon, next...)
			start := len(sc.join)
			sc.join = append(sc.join, w...)
			sc.join = append(sc.join, next...)
			w = sc.join[start:len(sc.join):len(sc.join)]
			i++
		}
		if len(sc.text) < maxTerms {
			sc.text = append(sc.text, term{w: w, stop: stopwords[string(w)], end: i == n-1})
		}
		i++
	}
	// A query of nothing but "gift card" still means those words.
	allStop := true
	for _, t := range sc.text {
		allStop = allStop && t.stop
	}
	if allStop {
		for i := range sc.text {
			sc.text[i].stop = false
		}
	}
}

// joins reports whether two query words are better read as one catalogue
// word: "play" + "station" is "playstation", which exists, while "station"
// does not. Two words that both exist stay apart ("google play").
func (s *snapshot) joins(a, b []byte, sc *scratch) bool {
	if len(a)+len(b) > 48 {
		return false
	}
	if s.word(a) >= 0 && s.word(b) >= 0 {
		return false
	}
	start := len(sc.join)
	sc.join = append(sc.join, a...)
	sc.join = append(sc.join, b...)
	ok := s.word(sc.join[start:]) >= 0
	sc.join = sc.join[:start]
	return ok
}

type filter struct {
	kind, category, country, prefer string
}

func newFilter(q Query) filter {
	return filter{kind: strings.ToLower(strings.TrimSpace(q.Kind)), category: strings.TrimSpace(q.Category),
		country: strings.ToUpper(strings.TrimSpace(q.Country)), prefer: strings.ToUpper(strings.TrimSpace(q.Prefer))}
}

// keys is a filter in the snapshot's packed terms.
type keys struct {
	f        filter
	kind     int // -1: any; -2: a kind no product has
	country  uint16
	prefer   uint16
	hasCtry  bool
	hasPrefs bool
}

func (s *snapshot) keys(f filter) keys {
	k := keys{f: f, kind: -1, country: countryKey(f.country), prefer: countryKey(f.prefer),
		hasCtry: f.country != "", hasPrefs: f.prefer != ""}
	if f.kind != "" {
		k.kind = -2
		if v, ok := s.kinds[f.kind]; ok {
			k.kind = int(v)
		}
	}
	return k
}

// pass reports whether product k survives the filters, and whether it does
// so only through eSIM coverage.
func (s *snapshot) pass(k uint32, f keys) (ok, coverageOnly bool) {
	m := s.meta[k]
	if f.kind != -1 && int(m.kind) != f.kind {
		return false, false
	}
	if f.f.category != "" && !slices.ContainsFunc(s.products[k].Categories, func(c string) bool { return strings.EqualFold(c, f.f.category) }) {
		return false, false
	}
	if f.hasCtry {
		if m.country == f.country && f.country != noCountry {
			return true, false
		}
		if m.ncov > 0 && slices.Contains(s.products[k].Coverage, f.f.country) {
			return true, true
		}
		return false, false
	}
	return true, false
}

func (s *snapshot) baseKey(k uint32, f keys, coverageOnly bool) uint64 {
	m := s.meta[k]
	key := uint64(k)
	if !m.inStock {
		key |= 1 << shiftOutOfStock
	}
	if f.hasPrefs && (m.country != f.prefer || f.prefer == noCountry) {
		key |= 1 << shiftNotPrefer
	}
	if coverageOnly {
		key |= 1<<shiftCoverage | uint64(m.ncov)<<shiftBreadth
	}
	return key
}

// browse lists what passes the filters, in stock and the user's country
// first.
func (s *snapshot) browse(sc *scratch, f keys, limit int) {
	try := func(k uint32) {
		if ok, cov := s.pass(k, f); ok {
			sc.push(s.baseKey(k, f, cov), limit)
		}
	}
	if !f.hasCtry {
		for k := range s.products {
			try(uint32(k))
		}
		return
	}
	for _, k := range s.byCountry[f.f.country] {
		try(k)
	}
	for _, k := range s.byCoverage[f.f.country] {
		try(k)
	}
}

// match scores every product that has any of the query's words or is for
// one of its countries, and keeps the best.
func (s *snapshot) match(sc *scratch, f keys, limit int) {
	var required uint16
	for i, t := range sc.text {
		bit := uint16(1) << i
		if !t.stop {
			required |= bit
		}
		s.matchWord(sc, t, bit)
	}
	for j, t := range sc.ctry {
		bit := uint8(1) << j
		for _, k := range s.byCountry[t.country] {
			st := sc.touch(k)
			st.country |= bit
			st.direct |= bit
		}
		for _, k := range s.byCoverage[t.country] {
			sc.touch(k).country |= bit
		}
		// The name says it ("Bitrefill eSIM Europe" for "europe").
		if w := s.word(t.last); w >= 0 {
			for _, v := range s.postings(w) {
				if v&weak == 0 {
					st := sc.touch(v)
					st.country |= bit
					st.direct |= bit
				}
			}
		}
	}
	allCtry := uint8(1)<<len(sc.ctry) - 1
	hasCtry := len(sc.ctry) > 0
	esim, hasESIM := s.kinds[conversation.KindESIM]
	for _, k := range sc.touched {
		st := sc.st[k]
		if required != 0 && st.matched&required == 0 {
			continue // only a country in common
		}
		if hasCtry && st.country != allCtry && hasESIM && s.meta[k].kind == esim {
			// A named destination ranks gift cards for elsewhere lower, but
			// an eSIM plan that does not work there is no use at all.
			continue
		}
		ok, cov := s.pass(k, f)
		if !ok {
			continue
		}
		key := s.baseKey(k, f, cov || st.country&^st.direct != 0)
		if st.country != allCtry {
			key |= 1 << shiftCountryMiss
		}
		key |= uint64(min(bits.OnesCount16(required&^st.matched), 15)) << shiftMissing
		key |= uint64(s.tier(sc, k, st, hasCtry)) << shiftTier
		key |= uint64(min(max(int(s.meta[k].words)-bits.OnesCount16(st.matched), 0), 7)) << shiftExtra
		sc.push(key, limit)
	}
}

// tier says how well the whole name matches: the exact name (or id), a
// name starting with the query, all words, or words with typos.
func (s *snapshot) tier(sc *scratch, k uint32, st pstate, hasCtry bool) int {
	name := s.fold[k]
	q := sc.fold
	canon := s.canon[k]
	if canon == "" {
		canon = name
	}
	switch {
	case string(q) == name || equalNoSpace(q, name) || (s.foldID[k] != "" && string(q) == s.foldID[k]):
		return tierExact
	case hasCtry && string(sc.canon) == canon:
		return tierExact
	case hasPrefix(name, q) || prefixNoSpace(q, name) || (hasCtry && hasPrefix(canon, sc.canon)):
		return tierPrefix
	case st.matched&^st.good == 0:
		return tierWords
	}
	return tierFuzzy
}

// matchWord marks the products having w: the word itself, words starting
// with it, and, when neither exists, words within a few typos of it.
func (s *snapshot) matchWord(sc *scratch, t term, bit uint16) {
	w := t.w
	mark := func(i int, quality int) {
		for _, v := range s.postings(i) {
			st := sc.touch(v &^ weak)
			st.matched |= bit
			if quality != qFuzzy && v&weak == 0 {
				st.good |= bit
			}
		}
	}
	found := false
	lo, _ := slices.BinarySearchFunc(s.words, w, cmpBytes)
	for i := lo; i < len(s.words) && hasPrefix(s.words[i], w); i++ {
		if len(s.words[i]) == len(w) {
			mark(i, qExact)
		} else if len(w) >= 2 || t.end {
			mark(i, qPrefix)
		} else {
			break
		}
		found = true
	}
	if found || t.stop {
		return // typos are looked for only when nothing matches as typed
	}
	k := maxEdits(len(w))
	if k == 0 {
		return
	}
	qm := letterMask(w)
	// With at most k edits, one of the first k+1 letters typed is right and
	// sits within the first 2k+1 letters of the word: a test on two masks
	// that rules out most of the dictionary before any distance is computed.
	qh := letterMask(w[:k+1])
	heads := s.heads[k-1]
	prefixOK := len(w) >= 5
	for i, word := range s.words {
		if qh&heads[i] == 0 || bits.OnesCount64(qm&^s.masks[i]) > k {
			continue
		}
		d := len(word) - len(w)
		fullOK := d >= -k && d <= k && bits.OnesCount64(s.masks[i]&^qm) <= k
		// A prefix within k edits is at most len(w)+k long: its letters
		// must hold all but k of the query's.
		preOK := prefixOK && d > k && bits.OnesCount64(qm&^letterMask(word[:len(w)+k])) <= k
		if !fullOK && !preOK {
			continue
		}
		full, pre := editDistance(w, word, k)
		if (fullOK && full <= k) || (prefixOK && pre <= k) {
			mark(i, qFuzzy)
		}
	}
}

// push keeps the limit smallest keys in a max-heap.
func (sc *scratch) push(key uint64, limit int) {
	h := sc.heap
	if len(h) < limit {
		h = append(h, key)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p] >= h[i] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		sc.heap = h
		return
	}
	if key >= h[0] {
		return
	}
	h[0] = key
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l] > h[m] {
			m = l
		}
		if r < len(h) && h[r] > h[m] {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (s *snapshot) collect(sc *scratch, dst []Product) []Product {
	slices.Sort(sc.heap)
	for _, key := range sc.heap {
		dst = append(dst, s.products[uint32(key)])
	}
	return dst
}
