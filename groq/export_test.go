package groq

import (
	"testing"
	"time"
)

// Hooks for the tests of package groq_test: they use internal/groqtest, which imports the collector,
// which imports this package, so they cannot be in package groq.

// SetBackoff sets the base of the client's retry backoff, so that the tests of package groq_test need
// not wait for retries.
func SetBackoff(c *Client, d time.Duration) { c.backoff = d }

// Constants for package groq_test.
const (
	TestKey = testKey
	OKBody  = okBody
)

// CheckSafe fails the test if s is not fit for a log line: too long, with a
// control character, or showing TestKey.
func CheckSafe(t *testing.T, s string) { t.Helper(); checkSafe(t, s) }
