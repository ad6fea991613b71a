package redisstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/internal/redistest"
	"github.com/medmatch/medmatch/redisstore"
	"github.com/medmatch/medmatch/storetest"
)

var namespaces atomic.Int64

// open returns a store in a namespace of its own on srv.
func open(t *testing.T, srv *redistest.Server) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), srv.URL(), redisstore.Options{Taxonomy: storetest.Taxonomy(),
		Namespace: "t" + strconv.FormatInt(namespaces.Add(1), 10)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the Store contract suite, unchanged, on Redis.
func TestContract(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) medmatch.Store { return open(t, srv) })
}

// TestDurability: with appendonly yes and appendfsync always, a Redis
// killed with SIGKILL loses no acknowledged write; with everysec, a
// graceful restart (SIGTERM) loses nothing either.
func TestDurability(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		fsync string
		stop  func(*redistest.Server)
	}{
		{"always+SIGKILL", "always", (*redistest.Server).Kill},
		{"everysec+SIGTERM", "everysec", (*redistest.Server).Shutdown},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", c.fsync)
			s := open(t, srv)
			var ids []string
			for i := range 200 {
				a := storetest.Achievement("", "东岚医科大学附属第一医院")
				a.Title = "耐久性测试成果 " + strconv.Itoa(i)
				r, err := s.Create(ctx, medmatch.System, a)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r.Base().ID) // acknowledged
			}
			head, _ := s.Head(ctx)
			c.stop(srv)
			srv.Restart()
			again, err := redisstore.Open(ctx, srv.URL(), redisstore.Options{Taxonomy: storetest.Taxonomy(), Namespace: nsOf(t, s)})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			recs, err := again.GetMany(ctx, medmatch.System, refs(ids))
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				if r == nil {
					t.Fatalf("acknowledged write %d (%s) lost", i, ids[i])
				}
			}
			if h, _ := again.Head(ctx); h != head {
				t.Fatalf("head after restart %d; want %d", h, head)
			}
			if ch, err := again.Changes(ctx, 0, 1000); err != nil || len(ch) != len(ids) {
				t.Fatalf("change feed after restart: %d changes, %v; want %d", len(ch), err, len(ids))
			}
		})
	}
}

func refs(ids []string) []medmatch.Ref {
	out := make([]medmatch.Ref, len(ids))
	for i, id := range ids {
		out[i] = medmatch.Ref{Kind: medmatch.KindAchievement, ID: id}
	}
	return out
}

// nsOf is the namespace of a store made by open.
func nsOf(t *testing.T, s *redisstore.Store) string {
	k := s.Key("x") // "{NS}:x"
	return k[1 : len(k)-3]
}

// TestConsumerTTL: a consumer that stopped acknowledging holds trimming
// back until its TTL passes; then the feed is trimmed past it and it
// gets ETRIMMED.
func TestConsumerTTL(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s, err := redisstore.Open(ctx, srv.URL(), redisstore.Options{Taxonomy: storetest.Taxonomy(), Namespace: "ttl",
		ConsumerTTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 6 {
		a := storetest.Achievement("ach-"+strconv.Itoa(i), "东岚医科大学附属第一医院")
		if _, err := s.Create(ctx, medmatch.System, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ack(ctx, "gone", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, "live", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Changes(ctx, 2, 10); err != nil {
		t.Fatalf("changes after 2 while the slow consumer is live: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if err := s.Ack(ctx, "live", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Changes(ctx, 2, 10); medmatch.ErrorCode(err) != medmatch.ETRIMMED {
		t.Fatalf("changes after 2 once the slow consumer expired: %v; want ETRIMMED", err)
	}
	if ch, err := s.Changes(ctx, 5, 10); err != nil || len(ch) != 1 || ch[0].Seq != 6 {
		t.Fatalf("changes after 5: %v %v; want change 6", ch, err)
	}
}
