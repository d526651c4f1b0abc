package bitrefill

import (
	"strings"
	"time"
)

// Request describes one HTTP exchange with the API, for an Observer. It holds
// no id, query, body or credential: Route is the endpoint's template.
type Request struct {
	Method   string
	Route    string        // e.g. "/products/{id}"; see Route
	Status   int           // HTTP status; 0 when no answer arrived
	Duration time.Duration // one attempt, retries are observed separately
}

// Observer is told about every attempt the client makes (metrics). It is
// called synchronously on the request's goroutine, so it must be quick.
type Observer func(Request)

// routes are the API's path templates. A segment in braces matches any one
// segment; fixed routes are listed before the templates they would match,
// so /products/search is never taken for /products/{id}.
var routes = []string{
	"/ping",
	"/accounts/balance",
	"/check_phone_number",
	"/products",
	"/products/search",
	"/products/esims",
	"/products/esims/{id}",
	"/products/{id}",
	"/invoices",
	"/invoices/{id}",
	"/invoices/{id}/pay",
	"/orders",
	"/orders/{id}",
	"/esims",
	"/esims/{id}",
}

// Route maps a request path (relative to the base URL, as the client builds
// it) to its template, so a metric label never carries a product, invoice
// or order id, nor an ICCID. A path that matches no known route is "other".
func Route(path string) string {
	path, _, _ = strings.Cut(path, "?")
	got := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range routes {
		want := strings.Split(strings.Trim(r, "/"), "/")
		if len(want) != len(got) {
			continue
		}
		ok := true
		for i, w := range want {
			if w != got[i] && !(strings.HasPrefix(w, "{") && got[i] != "") {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return "other"
}
