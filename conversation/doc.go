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
// # Layout
//
// engine.go is the turn (Engine.Step) and what every part shares; screens.go
// holds the tables: for each Step what typed text means, what Back does and
// how the screen is drawn again, for each ActionKind what choosing it does,
// and the commands (from which the platforms' command menus are generated).
// Each part of the dialogue has one file: home.go (start menu, browsing),
// search.go, product.go (the card and amounts), checkout.go (confirmation,
// payment method, creating the invoice), invoice.go, delivery.go, cart.go,
// balance.go, orders.go, esim.go, phone.go, settings.go (country, language).
// state.go is the stored State in its parts (Profile, Menus, Flow, Checkout,
// Ledger) and Migrate; vocab.go the events and effects exchanged with the
// shell; messages_en.go and messages_es.go the texts, one table per language.
//
// To add a screen: in the file of its part (or a new one), declare its Step,
// the ActionKinds of its options and the function that draws it; then add
// one entry to screens (and one per ActionKind to actions) in screens.go,
// and its texts to both message tables. Anything it keeps between turns goes
// in Flow, which a cancel or an idle timeout resets in one assignment.
//
// The package imports the standard library only.
package conversation
