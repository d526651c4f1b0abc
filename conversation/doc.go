// Package conversation is the purchase dialogue as a pure state machine.
//
// The shell (package bot) owns every side effect: it loads a session's State,
// calls Engine.Step with one Event and the current time, saves the returned
// State, and only then sends the returned replies and runs the returned work
// (searching, creating invoices). Results of that work come back as Events.
// Keeping the engine free of I/O, clocks and randomness is what lets a whole
// purchase — including every API failure — be replayed from a transcript in
// testdata/ and what lets a crash lose at most a message in flight.
//
// State is plain data with a schema version so it can be stored, inspected
// and migrated. Nothing typed by a chat SDK or by the Bitrefill client appears
// here: adapters and the shell translate into this vocabulary.
//
// The package imports the standard library only.
package conversation
