// Package parsefuzz holds the fuzz targets of bitrefill's parsers that its
// exported API reaches: decimals (every amount Bitrefill sends), webhook
// bodies (which anyone who knows the URL can post), the rate-limit setting
// operators write, and the route templates metrics use.
//
// They live apart from package bitrefill's own tests so that the binary go
// test -fuzz builds links only what these parsers reach, not the client's
// tests and the fake API: Go instruments every linked function for coverage
// and its fuzzing engine resets and scans every counter on each execution.
// The targets that need bitrefill's unexported readers (FuzzDecodeResponse,
// FuzzLenientValue) stay in package bitrefill. No code of its own.
package parsefuzz
