// Package pgtest gives each test a database of its own on the PostgreSQL
// server named by REFILLBOT_TEST_DATABASE_URL (scripts/test.sh and .ci/run
// start one and set it).
//
// Without that variable a test is skipped with a message — unless CI=true:
// in CI a missing server is a failure, never a silent skip, so the
// PostgreSQL store cannot go untested unnoticed.
package pgtest
