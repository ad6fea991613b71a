package bolt_test

import (
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/storetest"
)

// MustOpen opens a store in a temporary dir, closed at the end of the test.
func MustOpen(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(tb.TempDir(), bolt.Options{Taxonomy: storetest.Taxonomy()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) medmatch.Store { return MustOpen(t) })
}
