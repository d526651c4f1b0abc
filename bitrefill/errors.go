package bitrefill

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error codes documented by Bitrefill (the error envelope's "error_code").
const (
	CodeMissingParam             = "missing_param"
	CodeInvalidParam             = "invalid_param"
	CodeParseError               = "parse_error"
	CodeNotFound                 = "not_found"
	CodeOutOfStock               = "out_of_stock"
	CodeTooManyItems             = "too_many_items"
	CodeCreateInvoiceFailed      = "create_invoice_failed"
	CodeBalanceTooLow            = "balance_too_low"
	CodeUnsupportedPaymentMethod = "unsupported_payment_method"
	CodeInvalidPhoneNumber       = "invalid_phone_number"
	CodeUnsupportedOperator      = "unsupported_operator"
	CodeDeliveryFailed           = "delivery_failed"
)

// ErrAmbiguous marks a failed POST that may nevertheless have taken effect on
// the server (the request was sent, then the connection broke, timed out, or a
// 5xx came back). There is no idempotency key, so retrying could buy twice:
// look the invoice up (Invoices with After) or ask the user instead.
// Test with errors.Is(err, ErrAmbiguous).
var ErrAmbiguous = errors.New("bitrefill: outcome unknown, the request may have been processed")

// Error is every failure the client returns for a request: an API error
// envelope, an unexpected status, a network failure or an undecodable reply.
// Use errors.As to get it. Its text never holds credentials, request bodies or
// query strings (which can carry phone numbers).
type Error struct {
	Status     int           // HTTP status; 0 when no response arrived
	Code       string        // the API's error_code, e.g. CodeOutOfStock; may be empty
	Message    string        // the API's message, or a description of the failure
	RetryAfter time.Duration // server-requested wait on 429/503; 0 if none
	Endpoint   string        // path below the base URL, e.g. "/invoices"
	Method     string        // HTTP method
	Temporary  bool          // a later retry of the same request may succeed
	Ambiguous  bool          // a POST that may have been applied; see ErrAmbiguous
	Err        error         // underlying cause (network or decode error), if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("bitrefill: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d", e.Status)
		if e.Code != "" {
			b.WriteByte(' ')
			b.WriteString(e.Code)
		}
		if e.Message != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Message)
	if e.Err != nil {
		if e.Message != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Ambiguous {
		b.WriteString(" (outcome unknown: check before retrying)")
	}
	return b.String()
}

// Unwrap exposes the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrAmbiguous) true for ambiguous failures.
func (e *Error) Is(target error) bool {
	return target == ErrAmbiguous && e.Ambiguous
}

// Kind is a coarse classification of an error, for choosing what to tell a user.
type Kind int

const (
	KindOther        Kind = iota // anything not listed below
	KindNetwork                  // no HTTP response: connection, DNS, timeout
	KindCanceled                 // the caller's context ended
	KindAuth                     // 401/403 other than funds: credentials are wrong
	KindNotFound                 // 404 / not_found
	KindRateLimited              // 429, or not sent because the request budget was spent
	KindInvalid                  // 400: missing/invalid params, too many items, bad phone, ...
	KindOutOfStock               // out_of_stock
	KindInsufficient             // balance_too_low / not enough funds
	KindServer                   // 5xx
	KindDecode                   // a 2xx reply that could not be read
)

var kindNames = [...]string{"other", "network", "canceled", "auth", "not_found", "rate_limited",
	"invalid", "out_of_stock", "insufficient_funds", "server", "decode"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Kind classifies e.
func (e *Error) Kind() Kind {
	switch {
	case errors.Is(e.Err, ErrBudgetSpent):
		return KindRateLimited
	case errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded):
		return KindCanceled
	case e.Status == 0:
		return KindNetwork
	case e.Code == CodeBalanceTooLow:
		return KindInsufficient
	case e.Code == CodeOutOfStock:
		return KindOutOfStock
	case e.Status == http.StatusNotFound || e.Code == CodeNotFound:
		return KindNotFound
	case e.Status == http.StatusTooManyRequests:
		return KindRateLimited
	case e.Status == http.StatusUnauthorized:
		return KindAuth
	case e.Status == http.StatusForbidden:
		// 403 is also "not enough funds" on /invoices/{id}/pay.
		if strings.Contains(strings.ToLower(e.Message), "fund") || strings.Contains(strings.ToLower(e.Message), "balance") {
			return KindInsufficient
		}
		return KindAuth
	case e.Status >= 500:
		return KindServer
	case e.Status >= 400:
		return KindInvalid
	case e.Err != nil && errors.Is(e.Err, errDecode):
		return KindDecode
	}
	return KindOther
}

// errDecode marks undecodable replies.
var errDecode = errors.New("malformed response")

// ErrorKind classifies any error; KindOther when err is not an *Error
// (context errors are KindCanceled).
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return KindCanceled
	}
	return KindOther
}

// ErrorCode returns the API error_code carried by err, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports a 404 or a not_found error code.
func IsNotFound(err error) bool { return ErrorKind(err) == KindNotFound }

// IsRateLimited reports a 429.
func IsRateLimited(err error) bool { return ErrorKind(err) == KindRateLimited }

// IsBudgetSpent reports a request the client held back because the request
// budget would have refused it; its RetryAfter says when its turn comes.
func IsBudgetSpent(err error) bool { return errors.Is(err, ErrBudgetSpent) }

// RetryAfter is how long err says to wait before trying again: a 429's
// Retry-After or the budget's estimate; 0 when it says nothing.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// IsAmbiguous reports a POST whose outcome is unknown; see ErrAmbiguous.
func IsAmbiguous(err error) bool { return errors.Is(err, ErrAmbiguous) }

// IsTemporary reports an error worth retrying later with the same request.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary
}
