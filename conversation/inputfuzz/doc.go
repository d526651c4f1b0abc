// Package inputfuzz holds the fuzz targets of what a user types or presses
// into the conversation engine: amounts, amounts against a product's range,
// phone numbers, ICCIDs, notices' command tokens and menu tokens.
//
// They live apart from package conversation's own tests so that the binary
// go test -fuzz builds links only the code these parsers reach. Go
// instruments every linked function for coverage, and its fuzzing engine
// resets and scans every counter on each execution: in conversation's test
// binary, which also links the transcript and property tests, a target ran
// about three times slower. The package has no code of its own; the targets
// use conversation's exported API only, and scripts/fuzz.sh finds them here.
package inputfuzz
