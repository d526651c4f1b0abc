package bitrefill_test

// Integration tests against refillbot/bitrefill/bitrefilltest, the in-tree
// fake that speaks the wire protocol (and the seen alias shapes) of the live API.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
)

type fakeEnv struct {
	fake *bitrefilltest.Fake
	url  string // base URL including /v2
	c    *bitrefill.Client
}

func newFake(t *testing.T, opts bitrefilltest.Options, edit ...func(*bitrefill.Config)) *fakeEnv {
	t.Helper()
	f, srv := bitrefilltest.NewServer(t, opts)
	cfg := bitrefill.Config{
		BaseURL:    srv.URL + "/v2",
		APIKey:     "test-key",
		HTTPClient: srv.Client(),
		MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := bitrefill.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeEnv{fake: f, url: cfg.BaseURL, c: c}
}

// count counts requests the fake received with this method and path (after /v2).
func (e *fakeEnv) count(method, path string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == method && r.Path == "/v2"+path {
			n++
		}
	}
	return n
}

// clock is a mutable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestFakeAuth(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})
	bearer := env.c
	basic, _ := bitrefill.New(bitrefill.Config{BaseURL: env.url, APIID: "test-id", APISecret: "test-secret"})
	wrongKey, _ := bitrefill.New(bitrefill.Config{BaseURL: env.url, APIKey: "wrong-key"})
	wrongSecret, _ := bitrefill.New(bitrefill.Config{BaseURL: env.url, APIID: "test-id", APISecret: "nope"})
	none, _ := bitrefill.New(bitrefill.Config{BaseURL: env.url})

	if err := bearer.Ping(ctx); err != nil {
		t.Errorf("bearer: %v", err)
	}
	if err := basic.Ping(ctx); err != nil {
		t.Errorf("basic: %v", err)
	}
	for _, tc := range []struct {
		name string
		c    *bitrefill.Client
	}{{"wrong key", wrongKey}, {"wrong secret", wrongSecret}, {"none", none}} {
		_, err := tc.c.Balance(ctx)
		var e *bitrefill.Error
		if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Kind() != bitrefill.KindAuth {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && (strings.Contains(err.Error(), "wrong-key") || strings.Contains(err.Error(), "nope")) {
			t.Errorf("%s: error leaks credentials: %v", tc.name, err)
		}
	}
	var schemes []string
	for _, r := range env.fake.Requests() {
		schemes = append(schemes, r.Auth)
	}
	if want := []string{"bearer", "basic", "bearer", "basic", "none"}; !slices.Equal(schemes, want) {
		t.Errorf("schemes %v, want %v", schemes, want)
	}

	// The sandbox accepts no credentials at all, through the in-process transport.
	sandbox := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	t.Cleanup(sandbox.Close)
	c, err := bitrefill.New(bitrefill.Config{BaseURL: "http://sandbox.invalid/v2", HTTPClient: sandbox.Client()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Balance(ctx)
	if err != nil || b.Currency != "USD" || b.Amount != dec("100") {
		t.Errorf("sandbox balance %+v %v", b, err)
	}
}

// rawProducts fetches catalogue pages as raw JSON, to check the client's
// alias decoding against what the fake actually sent.
func rawProducts(t *testing.T, env *fakeEnv, query url.Values) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	for start := 0; ; start += 50 {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("start", strconv.Itoa(start))
		q.Set("limit", "50")
		req, _ := http.NewRequest("GET", env.url+"/products?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer test-key")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data []map[string]json.RawMessage `json:"data"`
		}
		err = json.NewDecoder(res.Body).Decode(&env)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(env.Data) == 0 {
			return out
		}
		out = append(out, env.Data...)
	}
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func rawText(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	return string(raw)
}

func TestFakeCatalogue(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})

	all, err := env.c.Products(ctx, bitrefill.ProductFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != env.fake.Products() || len(all) < 300 {
		t.Fatalf("%d products, fake lists %d", len(all), env.fake.Products())
	}
	withTests, err := env.c.Products(ctx, bitrefill.ProductFilter{IncludeTest: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(withTests) != len(all)+6 {
		t.Errorf("with test products: %d, want %d", len(withTests), len(all)+6)
	}
	if !slices.ContainsFunc(withTests, func(p bitrefill.Product) bool { return p.ID == "test-gift-card-code" }) ||
		slices.ContainsFunc(all, func(p bitrefill.Product) bool { return strings.HasPrefix(p.ID, "test-") }) {
		t.Error("test products listed wrongly")
	}

	// Alias decoding on the fake's real output: same order, field by field.
	raw := rawProducts(t, env, nil)
	if len(raw) != len(all) {
		t.Fatalf("raw %d vs decoded %d", len(raw), len(all))
	}
	seen := map[string]int{}
	types := map[bitrefill.ProductType]int{}
	ids := map[string]bool{}
	for i, r := range raw {
		p := all[i]
		if ids[p.ID] {
			t.Errorf("duplicate product %s", p.ID)
		}
		ids[p.ID] = true
		types[p.Type]++
		if p.ID != rawText(r["id"]) || p.Name == "" {
			t.Fatalf("product %d: %+v", i, p)
		}
		country := rawText(r["country"])
		if cc, ok := r["country_code"]; ok {
			seen["country_code"]++
			country = rawText(cc)
			if p.CountryName != rawText(r["country_name"]) || p.CountryName == "" {
				t.Errorf("%s: country_name %q", p.ID, p.CountryName)
			}
		}
		if p.Country != country || len(p.Country) != 2 {
			t.Errorf("%s: country %q, raw %q", p.ID, p.Country, country)
		}
		var pkgs []map[string]json.RawMessage
		_ = json.Unmarshal(r["packages"], &pkgs)
		if len(pkgs) != len(p.Packages) {
			t.Fatalf("%s: %d packages, raw %d", p.ID, len(p.Packages), len(pkgs))
		}
		for j, rk := range pkgs {
			k := p.Packages[j]
			id := rawText(rk["package_id"])
			if v, ok := rk["id"]; ok {
				seen["packages[].id"]++
				id = rawText(v)
			}
			if v := rk["value"]; len(v) > 0 && v[0] == '"' && p.Type != bitrefill.ESIMType {
				seen["string value"]++
			}
			if k.ID != id || k.Value != rawText(rk["value"]) || !strings.HasPrefix(k.ID, p.ID+bitrefill.PackageSeparator) ||
				k.ID != p.ID+bitrefill.PackageSeparator+k.Value {
				t.Errorf("%s: package %+v, raw %s", p.ID, k, jsonString(rk))
			}
			if _, ok := k.Amount(); ok == (p.Type == bitrefill.ESIMType) {
				t.Errorf("%s: Amount ok=%v for %q", p.ID, ok, k.Value)
			}
			if pr, ok := rk["price"]; ok && k.Price != dec(rawText(pr)) {
				t.Errorf("%s: price %s, raw %s", p.ID, k.Price, pr)
			}
		}
		var rng map[string]json.RawMessage
		_ = json.Unmarshal(r["range"], &rng)
		if (rng == nil) != (p.Range == nil) {
			t.Errorf("%s: range %v, raw %s", p.ID, p.Range, r["range"])
		} else if rng != nil {
			if p.Range.Min != dec(rawText(rng["min"])) || p.Range.Max != dec(rawText(rng["max"])) || p.Range.Step != dec(rawText(rng["step"])) {
				t.Errorf("%s: range %+v, raw %s", p.ID, *p.Range, r["range"])
			}
			if pr, ok := rng["price_rate"]; ok {
				seen["price_rate"]++
				if p.Range.PriceRate != dec(rawText(pr)) || p.Range.PriceRate.IsZero() {
					t.Errorf("%s: price_rate %s", p.ID, p.Range.PriceRate)
				}
			}
		}
		if inStock := rawText(r["in_stock"]) == "true"; p.InStock != inStock {
			t.Errorf("%s: in_stock %v", p.ID, p.InStock)
		}
		if p.Type == bitrefill.ESIMType && len(p.Coverage) == 0 {
			t.Errorf("%s: no coverage", p.ID)
		}
	}
	for _, alias := range []string{"country_code", "packages[].id", "string value", "price_rate"} {
		if seen[alias] == 0 {
			t.Errorf("the fake's catalogue exercised no %s alias", alias)
		}
	}
	for _, typ := range []bitrefill.ProductType{bitrefill.GiftCard, bitrefill.PhoneRefill, bitrefill.ESIMType, bitrefill.BillPayment} {
		if types[typ] == 0 {
			t.Errorf("no %s products", typ)
		}
	}
	if !slices.ContainsFunc(all, func(p bitrefill.Product) bool { return !p.InStock }) {
		t.Error("no out-of-stock products decoded")
	}
}

func TestFakeFilteredPagination(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})
	before := len(env.fake.Requests())
	// Gift cards span several pages; the country+type filter is checked below.
	gifts, err := env.c.Products(ctx, bitrefill.ProductFilter{Type: bitrefill.GiftCard})
	if err != nil {
		t.Fatal(err)
	}
	if len(gifts) <= 50 {
		t.Fatalf("only %d US gift cards: the filter walk needs several pages", len(gifts))
	}
	for _, p := range gifts {
		if p.Type != bitrefill.GiftCard {
			t.Errorf("filter not applied on every page: %s %s %s", p.ID, p.Country, p.Type)
		}
	}
	reqs := env.fake.Requests()[before:]
	if len(reqs) != (len(gifts)+49)/50 {
		t.Errorf("%d requests for %d products", len(reqs), len(gifts))
	}
	for _, r := range reqs {
		q, _ := url.ParseQuery(r.RawQuery)
		if q.Get("type") != "gift_card" {
			t.Errorf("page request without filters: %s", r.RawQuery)
		}
	}
	// The same count as the raw catalogue has.
	raw := rawProducts(t, env, url.Values{"type": {"gift_card"}})
	if len(raw) != len(gifts) {
		t.Errorf("raw %d vs %d", len(raw), len(gifts))
	}

	// Country and type together, walked by hand in small pages so the
	// filters must survive several _next links that drop them.
	us := bitrefill.ProductFilter{Country: "us", Type: bitrefill.GiftCard}
	var walked []bitrefill.Product
	before = len(env.fake.Requests())
	for start := 0; ; {
		page, err := env.c.ProductsPage(ctx, us, start, 10)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, page.Items...)
		if !page.Next {
			break
		}
		start = page.NextStart()
	}
	usRaw := rawProducts(t, env, url.Values{"country": {"US"}, "type": {"gift_card"}})
	if len(walked) != len(usRaw) || len(walked) <= 10 {
		t.Errorf("walked %d US gift cards, raw %d", len(walked), len(usRaw))
	}
	for _, p := range walked {
		if p.Country != "US" || p.Type != bitrefill.GiftCard {
			t.Errorf("%s %s %s", p.ID, p.Country, p.Type)
		}
	}
	for _, r := range env.fake.Requests()[before:] {
		if q, _ := url.ParseQuery(r.RawQuery); r.Path == "/v2/products" && (q.Get("country") != "US" || q.Get("type") != "gift_card") {
			t.Errorf("page request without filters: %s", r.RawQuery)
		}
	}
	all, err := env.c.Products(ctx, us)
	if err != nil || len(all) != len(walked) {
		t.Errorf("Products(US gift cards) = %d, %v", len(all), err)
	}
	last, err := env.c.ProductsPage(ctx, us, len(walked)-3, 10)
	if err != nil || len(last.Items) != 3 || last.Next {
		t.Errorf("last page %+v %v", last, err)
	}
}

func TestFakeProductEndpoints(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})
	p, err := env.c.Product(ctx, "amazon-us")
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, k := range p.Packages {
		values = append(values, k.Value)
	}
	if p.Type != bitrefill.GiftCard || p.Country != "US" || p.Currency != "USD" || !p.InStock ||
		!slices.Equal(values, []string{"25", "50", "100"}) || p.Packages[0].ID != "amazon-us<&>25" {
		t.Errorf("%+v", p)
	}
	if p.Range == nil || p.Range.Min != dec("10") || p.Range.Max != dec("200") || p.Range.Step != dec("1") {
		t.Fatalf("range %+v", p.Range)
	}
	if !p.Range.Accepts(dec("37")) || p.Range.Accepts(dec("37.5")) || p.Range.Accepts(dec("201")) {
		t.Error("Accepts")
	}
	if _, err := env.c.Product(ctx, "no-such-product"); !bitrefill.IsNotFound(err) {
		t.Errorf("missing product: %v", err)
	}

	res, err := env.c.Search(ctx, bitrefill.SearchFilter{Query: "amazon", Country: "US"})
	if err != nil || !slices.ContainsFunc(res.Items, func(p bitrefill.Product) bool { return p.ID == "amazon-us" && len(p.Packages) > 0 }) {
		t.Errorf("search: %+v %v", res, err)
	}
	res, err = env.c.Search(ctx, bitrefill.SearchFilter{Query: "test gift", IncludeTest: true})
	if err != nil || !slices.ContainsFunc(res.Items, func(p bitrefill.Product) bool { return p.ID == "test-gift-card-code" }) {
		t.Errorf("search tests: %+v %v", res, err)
	}
	_, err = env.c.Search(ctx, bitrefill.SearchFilter{})
	if bitrefill.ErrorCode(err) != bitrefill.CodeMissingParam {
		t.Errorf("empty search: %v", err)
	}
	// Paging through a search with Start.
	first, err := env.c.Search(ctx, bitrefill.SearchFilter{Query: "a", Limit: 5})
	if err != nil || !first.Next || len(first.Items) != 5 {
		t.Fatalf("%+v %v", first, err)
	}
	second, err := env.c.Search(ctx, bitrefill.SearchFilter{Query: "a", Limit: 5, Start: first.NextStart()})
	if err != nil || len(second.Items) != 5 || second.Items[0].ID == first.Items[0].ID {
		t.Errorf("%+v %v", second, err)
	}

	esims, err := env.c.ESIMProducts(ctx)
	if err != nil || len(esims) < 10 {
		t.Fatalf("%d eSIM products, %v", len(esims), err)
	}
	for _, p := range esims {
		if p.Type != bitrefill.ESIMType || len(p.Coverage) == 0 {
			t.Errorf("%+v", p)
		}
	}
	eu, err := env.c.ESIMProduct(ctx, "bitrefill-esim-europe")
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := eu.Package("1GB, 7 Days"); !ok || k.ID != "bitrefill-esim-europe<&>1GB, 7 Days" || k.Price.IsZero() {
		t.Errorf("%+v", eu.Packages)
	}
	if !slices.Contains(eu.Coverage, "DE") {
		t.Errorf("coverage %v", eu.Coverage)
	}
	if _, err := env.c.ESIMProduct(ctx, "amazon-us"); !bitrefill.IsNotFound(err) {
		t.Errorf("non-eSIM as eSIM: %v", err)
	}
}

func TestFakeCheckPhoneNumber(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})
	pc, err := env.c.CheckPhoneNumber(ctx, "+15551234567", "")
	if err != nil {
		t.Fatal(err)
	}
	if pc.OperatorFound || len(pc.Products) < 2 {
		t.Fatalf("%+v", pc)
	}
	for _, id := range []string{"at-t-usa", "t-mobile-usa"} {
		if !slices.ContainsFunc(pc.Products, func(p bitrefill.Product) bool { return p.ID == id && p.NeedsPhoneNumber() }) {
			t.Errorf("%s not a candidate", id)
		}
	}
	pc, err = env.c.CheckPhoneNumber(ctx, "+15551234567", "at-t-usa")
	if err != nil || !pc.OperatorFound || len(pc.Products) != 1 || pc.Products[0].ID != "at-t-usa" || pc.Products[0].Type != bitrefill.PhoneRefill {
		t.Errorf("%+v %v", pc, err)
	}
	_, err = env.c.CheckPhoneNumber(ctx, "5551234", "")
	if bitrefill.ErrorCode(err) != bitrefill.CodeInvalidPhoneNumber {
		t.Errorf("invalid: %v", err)
	}
	_, err = env.c.CheckPhoneNumber(ctx, "+4915112345678", "at-t-usa")
	if bitrefill.ErrorCode(err) != bitrefill.CodeUnsupportedOperator {
		t.Errorf("wrong operator: %v", err)
	}
	_, err = env.c.CheckPhoneNumber(ctx, "+9991234567", "")
	if !bitrefill.IsNotFound(err) {
		t.Errorf("no operator: %v", err)
	}
	if strings.Contains(err.Error(), "9991234567") {
		t.Errorf("error leaks the phone number: %v", err)
	}
}

func TestFakeInvoiceErrors(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{Balance: "1.00"})
	line := func(l bitrefill.InvoiceLine) []bitrefill.InvoiceLine { return []bitrefill.InvoiceLine{l} }
	many := make([]bitrefill.InvoiceLine, 21)
	for i := range many {
		many[i] = bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "25"}
	}
	cases := []struct {
		name   string
		req    bitrefill.InvoiceRequest
		status int
		code   string
	}{
		{"no products", bitrefill.InvoiceRequest{PaymentMethod: "bitcoin"}, 400, bitrefill.CodeMissingParam},
		{"no payment method", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "50"})}, 400, bitrefill.CodeMissingParam},
		{"no value", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeMissingParam},
		{"too many", bitrefill.InvoiceRequest{Products: many, PaymentMethod: "bitcoin"}, 400, bitrefill.CodeTooManyItems},
		{"unknown product", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "nope", Value: "5"}), PaymentMethod: "bitcoin"}, 404, bitrefill.CodeNotFound},
		{"out of stock", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "playstation-tr", PackageID: "x"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeOutOfStock},
		{"value off range", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "10.5"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeInvalidParam},
		{"both package and value", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "25", PackageID: "amazon-us<&>25"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeInvalidParam},
		{"bad payment method", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "25"}), PaymentMethod: "usdt"}, 400, bitrefill.CodeUnsupportedPaymentMethod},
		{"bad phone", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "at-t-usa", Value: "25", PhoneNumber: "555"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeInvalidPhoneNumber},
		{"missing phone", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "at-t-usa", Value: "25"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeMissingParam},
		{"wrong country phone", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "at-t-usa", Value: "25", PhoneNumber: "+4915112345678"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeUnsupportedOperator},
		{"balance too low", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "50"}), PaymentMethod: "balance", AutoPay: true}, 403, bitrefill.CodeBalanceTooLow},
		{"eSIM endpoint with a gift card", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "amazon-us", Value: "50"}), PaymentMethod: "bitcoin"}, 400, bitrefill.CodeInvalidParam},
		{"top-up of unknown eSIM", bitrefill.InvoiceRequest{Products: line(bitrefill.InvoiceLine{ProductID: "bitrefill-esim-europe", Value: "1GB, 7 Days", ESIMID: "8900000000000000000"}), PaymentMethod: "bitcoin"}, 404, bitrefill.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			call := env.c.CreateInvoice
			if strings.Contains(tc.name, "eSIM") {
				call = env.c.BuyESIM
			}
			_, err := call(ctx, tc.req)
			var e *bitrefill.Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			if e.Status != tc.status || e.Code != tc.code || e.Message == "" {
				t.Errorf("got %d %s %q, want %d %s", e.Status, e.Code, e.Message, tc.status, tc.code)
			}
			if e.Ambiguous || e.Temporary {
				t.Errorf("validation error marked ambiguous/temporary: %+v", e)
			}
		})
	}
	// PayInvoice: unknown, not enough funds.
	if _, err := env.c.PayInvoice(ctx, "00000000-0000-4000-8000-000000000000"); !bitrefill.IsNotFound(err) {
		t.Errorf("pay unknown: %v", err)
	}
	inv, err := env.c.CreateInvoice(ctx, bitrefill.InvoiceRequest{
		Products: []bitrefill.InvoiceLine{{ProductID: "amazon-us", Value: "50"}}, PaymentMethod: "balance"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.c.PayInvoice(ctx, inv.ID)
	var e *bitrefill.Error
	if !errors.As(err, &e) || e.Status != 403 || e.Kind() != bitrefill.KindInsufficient || e.Ambiguous {
		t.Errorf("pay without funds: %v", err)
	}
	if n := env.count("POST", "/invoices/"+inv.ID+"/pay"); n != 1 {
		t.Errorf("%d pay requests", n)
	}
}

func TestFakeRetries(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})

	env.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/accounts/balance", Status: 503, Times: 2})
	b, err := env.c.Balance(ctx)
	if err != nil || b.Amount != dec("100") {
		t.Fatalf("%+v %v", b, err)
	}
	if n := env.count("GET", "/accounts/balance"); n != 3 {
		t.Errorf("%d balance requests, want 3", n)
	}

	env.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products/amazon-us", Drop: true})
	if _, err := env.c.Product(ctx, "amazon-us"); err != nil {
		t.Fatalf("after a dropped connection: %v", err)
	}
	if n := env.count("GET", "/products/amazon-us"); n != 2 {
		t.Errorf("%d product requests, want 2", n)
	}

	// 429 with Retry-After: 1 (the one real wait in these tests).
	env.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/invoices", Status: 429, RetryAfter: time.Second})
	if _, err := env.c.Invoices(ctx, bitrefill.ListFilter{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if n := env.count("GET", "/invoices"); n != 2 {
		t.Errorf("%d invoice list requests, want 2", n)
	}
	if rl := env.c.RateLimit(); rl.Limit == 0 || rl.Remaining == 0 || rl.Reset.IsZero() {
		t.Errorf("rate limit state %+v", rl)
	}

	// Persistent 5xx: the GET gives up after 1+MaxRetries attempts.
	env.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/orders", Status: 500, Times: 10})
	_, err = env.c.Orders(ctx, bitrefill.ListFilter{})
	var e *bitrefill.Error
	if !errors.As(err, &e) || e.Status != 500 || !e.Temporary {
		t.Errorf("%v", err)
	}
	if n := env.count("GET", "/orders"); n != 4 {
		t.Errorf("%d order requests, want 4", n)
	}

	// A 429 asking for longer than MaxRetryWait comes back at once.
	env.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/esims", Status: 429, RetryAfter: 2 * time.Hour})
	_, err = env.c.ESIMs(ctx)
	if !bitrefill.IsRateLimited(err) || !errors.As(err, &e) || e.RetryAfter != 2*time.Hour {
		t.Errorf("%v", err)
	}
}

func TestFakePostNeverRetried(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})
	req := bitrefill.InvoiceRequest{Products: []bitrefill.InvoiceLine{{ProductID: "amazon-us", Value: "50"}}, PaymentMethod: "bitcoin"}

	env.fake.InjectFault(bitrefilltest.Fault{Method: "POST", Path: "/invoices", Status: 500, Times: 5})
	_, err := env.c.CreateInvoice(ctx, req)
	if !errors.Is(err, bitrefill.ErrAmbiguous) {
		t.Errorf("500 not ambiguous: %v", err)
	}
	if n := env.count("POST", "/invoices"); n != 1 {
		t.Errorf("%d POST /invoices, want exactly 1", n)
	}

	// The answer is lost after the invoice was created: the caller finds it
	// by listing instead of retrying.
	since := time.Now()
	env.fake.InjectFault(bitrefilltest.Fault{Method: "POST", Path: "/invoices", Drop: true, AfterHandling: true})
	// The 500 fault above still has 4 uses left for POST /invoices; clear them.
	for range 4 {
		_, _ = env.c.CreateInvoice(ctx, bitrefill.InvoiceRequest{})
	}
	before := env.count("POST", "/invoices")
	_, err = env.c.CreateInvoice(ctx, req)
	if !errors.Is(err, bitrefill.ErrAmbiguous) || bitrefill.ErrorKind(err) != bitrefill.KindNetwork {
		t.Fatalf("dropped answer: %v", err)
	}
	if n := env.count("POST", "/invoices"); n != before+1 {
		t.Errorf("%d POSTs, want %d", n, before+1)
	}
	found, err := env.c.Invoices(ctx, bitrefill.ListFilter{After: since})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Status != bitrefill.InvoiceUnpaid || len(found[0].Orders) != 1 || found[0].Orders[0].Product.ID != "amazon-us" {
		t.Errorf("lookup after ambiguous POST: %+v", found)
	}

	// The same for eSIMs.
	env.fake.InjectFault(bitrefilltest.Fault{Method: "POST", Path: "/esims", Status: 502})
	_, err = env.c.BuyESIM(ctx, bitrefill.InvoiceRequest{
		Products: []bitrefill.InvoiceLine{{ProductID: "bitrefill-esim-europe", Value: "1GB, 7 Days"}}, PaymentMethod: "bitcoin"})
	if !errors.Is(err, bitrefill.ErrAmbiguous) || env.count("POST", "/esims") != 1 {
		t.Errorf("eSIM POST: %v, %d requests", err, env.count("POST", "/esims"))
	}
}

func TestFakeContextTimeout(t *testing.T) {
	env := newFake(t, bitrefilltest.Options{})
	env.fake.InjectFault(bitrefilltest.Fault{Path: "/ping", Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := env.c.Ping(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v", err)
	}
	if n := env.count("GET", "/ping"); n != 1 {
		t.Errorf("%d pings", n)
	}
}

func TestFakeInvoiceLifecycle(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	env := newFake(t, bitrefilltest.Options{Now: clk.Now})
	c := env.c

	inv, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{
		Products: []bitrefill.InvoiceLine{
			{ProductID: "amazon-us", PackageID: "amazon-us<&>50", Quantity: 2},
			{ProductID: "amazon-us", Value: "37"},
			{ProductID: "at-t-usa", Value: "25", PhoneNumber: "+15551234567"},
			{ProductID: "test-gift-card-code-fail", Value: "5"},
		},
		PaymentMethod: bitrefill.PayBitcoin,
	})
	if err != nil {
		t.Fatal(err)
	}
	if inv.ID == "" || inv.Status != bitrefill.InvoiceUnpaid || inv.Status.Final() || len(inv.Orders) != 5 {
		t.Fatalf("%+v", inv)
	}
	if !inv.CreatedTime.Equal(clk.Now()) || !inv.ExpirationTime.After(inv.CreatedTime) {
		t.Errorf("times %v %v", inv.CreatedTime, inv.ExpirationTime)
	}
	if inv.Payment.Method != "bitcoin" || inv.Payment.Currency != "BTC" || inv.Payment.Price.Sign() <= 0 || inv.Payment.Address == "" {
		t.Errorf("payment %+v", inv.Payment)
	}
	if uri := inv.Payment.URI(); !strings.HasPrefix(uri, "bitcoin:"+inv.Payment.Address+"?amount=") {
		t.Errorf("URI %q", uri)
	}
	// Without the server's URI, the client builds the same BIP21 link.
	built := inv.Payment
	built.PaymentURI = ""
	if built.URI() != inv.Payment.URI() {
		t.Errorf("built %q vs server %q", built.URI(), inv.Payment.URI())
	}
	if inv.Total.IsZero() || inv.Currency != "USD" {
		t.Errorf("total %s %s", inv.Total, inv.Currency)
	}
	for _, o := range inv.Orders {
		if o.Status != bitrefill.OrderCreated || o.InvoiceID != inv.ID || len(o.ID) != 24 {
			t.Errorf("order %+v", o)
		}
	}

	if err := env.fake.MarkPaid(inv.ID); err != nil {
		t.Fatal(err)
	}
	got, err := c.Invoice(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != bitrefill.InvoiceComplete || !got.Status.Final() {
		t.Fatalf("after MarkPaid with zero delays: %s", got.Status)
	}
	var delivered, failed int
	for _, ref := range got.Orders {
		o, err := c.Order(ctx, ref.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.InvoiceID != inv.ID || o.CreatedTime.IsZero() {
			t.Errorf("order %+v", o)
		}
		switch o.Status {
		case bitrefill.OrderDelivered:
			delivered++
			if o.DeliveredTime.IsZero() {
				t.Errorf("%s: no delivered_time", o.ID)
			}
			if o.Product.ID == "amazon-us" && (o.Redemption.IsEmpty() || (o.Redemption.Code == "" && o.Redemption.Link == "" && o.Redemption.Instructions == "")) {
				t.Errorf("%s: redemption %+v", o.ID, o.Redemption)
			}
			if o.Product.ID == "at-t-usa" && !o.Redemption.IsEmpty() {
				t.Errorf("phone refill with redemption %+v", o.Redemption)
			}
		case bitrefill.OrderFailed:
			failed++
			if o.Product.ID != "test-gift-card-code-fail" || o.Message == "" {
				t.Errorf("failed order %+v", o)
			}
		default:
			t.Errorf("order %s is %s", o.ID, o.Status)
		}
	}
	if delivered != 4 || failed != 1 {
		t.Errorf("%d delivered, %d failed", delivered, failed)
	}
	values := map[string]int{}
	for _, o := range got.Orders {
		values[o.Product.ID+"="+o.Product.Value]++
	}
	if values["amazon-us=50"] != 2 || values["amazon-us=37"] != 1 || values["at-t-usa=25"] != 1 {
		t.Errorf("order values %v", values)
	}

	orders, err := c.Orders(ctx, bitrefill.ListFilter{})
	if err != nil || len(orders) != 5 {
		t.Errorf("%d orders, %v", len(orders), err)
	}

	// Refund one order; deny, block and fail the payment of other invoices;
	// let one expire on the fake clock.
	if err := env.fake.Refund(got.Orders[0].ID); err != nil {
		t.Fatal(err)
	}
	if o, err := c.Order(ctx, got.Orders[0].ID); err != nil || o.Status != bitrefill.OrderRefunded || !o.Status.Final() {
		t.Errorf("refunded: %+v %v", o, err)
	}
	ends := []struct {
		want bitrefill.InvoiceStatus
		end  func(string) error
	}{
		{bitrefill.InvoiceDenied, env.fake.Deny},
		{bitrefill.InvoiceBlocked, env.fake.Block},
		{bitrefill.InvoicePaymentError, env.fake.FailPayment},
		{bitrefill.InvoiceExpired, func(string) error { clk.Add(4 * time.Hour); return nil }},
	}
	for _, tc := range ends {
		want, end := tc.want, tc.end
		inv, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{
			Products: []bitrefill.InvoiceLine{{ProductID: "steam-us", PackageID: "steam-us<&>20"}}, PaymentMethod: bitrefill.PayLightning})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(inv.Payment.URI(), "lightning:lnbc") {
			t.Errorf("lightning URI %q", inv.Payment.URI())
		}
		if err := end(inv.ID); err != nil {
			t.Fatal(err)
		}
		got, err := c.Invoice(ctx, inv.ID)
		if err != nil || got.Status != want || !got.Status.Final() {
			t.Errorf("want %s: %s %v", want, got.Status, err)
		}
	}

	// Balance payments: PayInvoice from the account balance.
	bal, _ := c.Balance(ctx)
	inv, err = c.CreateInvoice(ctx, bitrefill.InvoiceRequest{
		Products: []bitrefill.InvoiceLine{{ProductID: "amazon-us", Value: "25"}}, PaymentMethod: bitrefill.PayBalance})
	if err != nil {
		t.Fatal(err)
	}
	paid, err := c.PayInvoice(ctx, inv.ID)
	if err != nil || paid.ID != inv.ID || !paid.Status.Paid() {
		t.Fatalf("pay: %+v %v", paid, err)
	}
	after, _ := c.Balance(ctx)
	if want := bal.Amount.Sub(inv.Total); after.Amount != want {
		t.Errorf("balance %s → %s, want %s", bal.Amount, after.Amount, want)
	}
	if _, err := c.PayInvoice(ctx, inv.ID); !bitrefill.IsNotFound(err) {
		t.Errorf("paying twice: %v", err)
	}

	// Invoices with a time window.
	all, err := c.Invoices(ctx, bitrefill.ListFilter{})
	if err != nil || len(all) != 6 {
		t.Fatalf("%d invoices, %v", len(all), err)
	}
	none, err := c.Invoices(ctx, bitrefill.ListFilter{After: clk.Now().Add(time.Hour)})
	if err != nil || len(none) != 0 {
		t.Errorf("future window: %d %v", len(none), err)
	}
	old, err := c.Invoices(ctx, bitrefill.ListFilter{Before: clk.Now().Add(-time.Hour)})
	if err != nil || len(old) != 5 {
		t.Errorf("before window: %d %v", len(old), err)
	}
	if _, err := c.Invoice(ctx, "no-such-invoice"); !bitrefill.IsNotFound(err) {
		t.Errorf("missing invoice: %v", err)
	}
	if _, err := c.Order(ctx, "no-such-order"); !bitrefill.IsNotFound(err) {
		t.Errorf("missing order: %v", err)
	}
}

func TestFakeESIMPurchaseAndTopUp(t *testing.T) {
	ctx := context.Background()
	env := newFake(t, bitrefilltest.Options{})
	c := env.c

	inv, err := c.BuyESIM(ctx, bitrefill.InvoiceRequest{
		Products:      []bitrefill.InvoiceLine{{ProductID: "bitrefill-esim-europe", Value: "1GB, 7 Days"}},
		PaymentMethod: bitrefill.PayBalance, AutoPay: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Orders) != 1 || !inv.Status.Paid() {
		t.Fatalf("%+v", inv)
	}
	// The request carried the string value as a JSON string.
	var body struct {
		Products []struct {
			Value json.RawMessage `json:"value"`
		} `json:"products"`
	}
	for _, r := range env.fake.Requests() {
		if r.Method == "POST" && r.Path == "/v2/esims" {
			_ = json.Unmarshal(r.Body, &body)
		}
	}
	if len(body.Products) != 1 || string(body.Products[0].Value) != `"1GB, 7 Days"` {
		t.Errorf("sent %+v", body)
	}

	inv, err = c.Invoice(ctx, inv.ID)
	if err != nil || inv.Status != bitrefill.InvoiceComplete {
		t.Fatalf("%s %v", inv.Status, err)
	}
	o, err := c.Order(ctx, inv.Orders[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.ESIMID == "" { // the documented shape: the ICCID comes from GET /esims
		found, err := c.FindESIMs(ctx, o.LPA())
		if err != nil {
			t.Fatal(err)
		}
		o.ESIMID = found[o.LPA()].ID
	}
	if o.Status != bitrefill.OrderDelivered || o.ESIMID == "" || o.Redemption == nil ||
		o.Redemption.BarcodeFormat != "QRCODE" || !strings.HasPrefix(o.Redemption.BarcodeValue, "LPA:1$") {
		t.Fatalf("order %+v %+v", o, o.Redemption)
	}
	list, err := c.ESIMs(ctx)
	if err != nil || len(list) != 1 || list[0].ID != o.ESIMID {
		t.Fatalf("%+v %v", list, err)
	}
	e, err := c.ESIM(ctx, o.ESIMID)
	if err != nil {
		t.Fatal(err)
	}
	if e.BarcodeValue != o.Redemption.BarcodeValue || e.RSPURL == "" || e.PIN == "" || len(e.Packages) != 1 {
		t.Errorf("%+v", e)
	}
	if p := e.Packages[0]; p.Name != "1GB, 7 Days" || p.DataMB != 1000 || p.RemainingBytes != 1_000_000_000 ||
		p.Status != "active" || p.ExpirationDate.IsZero() {
		t.Errorf("package %+v", p)
	}

	// Top up the same eSIM.
	top, err := c.BuyESIM(ctx, bitrefill.InvoiceRequest{
		Products:      []bitrefill.InvoiceLine{{ProductID: "bitrefill-esim-europe", PackageID: "bitrefill-esim-europe<&>5GB, 30 Days", ESIMID: e.ID}},
		PaymentMethod: bitrefill.PayBitcoin,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.fake.MarkPaid(top.ID); err != nil {
		t.Fatal(err)
	}
	if top, err = c.Invoice(ctx, top.ID); err != nil || top.Status != bitrefill.InvoiceComplete {
		t.Fatalf("%s %v", top.Status, err)
	}
	// As documented, the top-up's order names no ICCID either: the buyer
	// named it, and the eSIM's history shows the bundle.
	if to, err := c.Order(ctx, top.Orders[0].ID); err != nil || to.Status != bitrefill.OrderDelivered || to.ESIMID != "" {
		t.Errorf("top-up order %+v %v", to, err)
	}
	e, err = c.ESIM(ctx, e.ID)
	if err != nil || len(e.Packages) != 2 || e.Packages[1].Name != "5GB, 30 Days" || e.Packages[1].DataMB != 5000 {
		t.Errorf("after top-up %+v %v", e, err)
	}
	if list, _ := c.ESIMs(ctx); len(list) != 1 {
		t.Errorf("a top-up created a new eSIM: %d", len(list))
	}
	if _, err := c.ESIM(ctx, "8900000000000000000"); !bitrefill.IsNotFound(err) {
		t.Errorf("missing eSIM: %v", err)
	}
}
