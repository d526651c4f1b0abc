// Package bot is the shell around the pure conversation engine.
//
// For every incoming event it takes the session's lock (one session's events
// in order, different sessions in parallel), loads the state, calls
// conversation.Engine.Step, commits the new state and the invoice-tracking
// changes in one storage transaction, and only then sends the replies and runs
// the work the engine asked for. Results of that work are fed back as events
// under the same lock. A crash can therefore lose at most a message in flight,
// never a session or a paid order.
//
// The package speaks to chat platforms and storage through the small
// interfaces declared here; it never imports platforms/* or storage, so
// cmd/refillbot is the only place that knows the concrete types. It does
// import the Bitrefill client, because translating the vendor's types into the
// engine's vocabulary is its job.
package bot
