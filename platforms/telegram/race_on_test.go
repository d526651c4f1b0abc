//go:build race

package telegram_test

// raceEnabled scales the load test down: the race detector makes each
// update several times as costly, and the point there is finding races.
const raceEnabled = true
