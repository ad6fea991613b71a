package main

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/internal/redistest"
	"github.com/medmatch/medmatch/redisstore"
)

// crashed is a leaser whose holder dies without releasing: the failure a
// real replica shows when killed, injected without killing the test.
type crashed struct{ medmatch.Leaser }

func (crashed) Release(context.Context, string, string) error { return nil }

// TestJobLeases: a job runs on one replica at a time; when its holder is
// killed, another takes over once the lease expires.
func TestJobLeases(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	rs, err := redisstore.Open(ctx, srv.URL(), redisstore.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	const every = 40 * time.Millisecond
	var runs [2]atomic.Int64
	var running atomic.Int64
	var overlap atomic.Bool
	ctxs := make([]context.CancelFunc, 2)
	done := make([]chan struct{}, 2)
	for i, holder := range []string{"a", "b"} {
		jctx, cancel := context.WithCancel(ctx)
		ctxs[i], done[i] = cancel, make(chan struct{})
		go func() {
			defer close(done[i])
			runJobs(jctx, crashed{rs}, holder, []job{{name: "test-job", every: every, run: func(context.Context) error {
				if running.Add(1) > 1 {
					overlap.Store(true)
				}
				runs[i].Add(1)
				time.Sleep(every / 4)
				running.Add(-1)
				return nil
			}}}, slog.New(slog.DiscardHandler))
		}()
	}
	defer func() {
		for i := range ctxs {
			ctxs[i]()
			<-done[i]
		}
	}()
	time.Sleep(15 * every)
	a, b := runs[0].Load(), runs[1].Load()
	if (a == 0) == (b == 0) || overlap.Load() {
		t.Fatalf("runs a=%d b=%d overlap=%v; want exactly one holder running", a, b, overlap.Load())
	}
	holder, other := 0, 1
	if b > 0 {
		holder, other = 1, 0
	}
	ctxs[holder]() // killed: it does not release
	<-done[holder]
	killedAt := runs[holder].Load()
	time.Sleep(15 * every)
	if runs[other].Load() == 0 {
		t.Fatalf("the other replica did not take the job over after the holder was killed")
	}
	if runs[holder].Load() != killedAt {
		t.Fatalf("the killed holder kept running")
	}
}

// TestExpireRequestsJob: a server expires overdue meeting requests by
// itself.
func TestExpireRequestsJob(t *testing.T) {
	dir := t.TempDir()
	s := &Server{Data: dir, Addr: "127.0.0.1:0", Demo: true, JobEvery: 50 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	ev := &medmatch.Event{Title: "过期测试推介会", Theme: "神经调控", Date: "2026-12-20", Projects: 3, Status: medmatch.EventPublished,
		RequestTTL: "1h", Slots: []medmatch.Slot{{Start: "14:00", Minutes: 20, Tables: 2}},
		Invited: []medmatch.Invitation{{EnterpriseID: "ent-001", Requests: []medmatch.MeetingRequest{
			{AchievementID: "ach-0001", Status: medmatch.RequestPending, At: time.Now().Add(-2 * time.Hour)},
			{AchievementID: "ach-0002", Status: medmatch.RequestPending, At: time.Now()},
		}}}}
	if err := s.store.PutEvent(ctx, medmatch.System, ev); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := s.store.Event(ctx, medmatch.System, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		rs := got.Invitation("ent-001").Requests
		if rs[0].Status == medmatch.RequestExpired {
			if rs[1].Status != medmatch.RequestPending {
				t.Fatalf("the recent request became %s; want pending", rs[1].Status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the overdue request was not expired by the job")
		}
	}
}

// TestQualityCommand: `medmatch quality` and `quality --duplicates`
// through a running server; bad flags exit 2 naming them.
func TestQualityCommand(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir, true)
	code, out, errs := run(t, "quality", "--data", dir, "--limit", "3")
	if code != 0 || !strings.Contains(out, "records,") || !strings.Contains(out, "东岚医科大学附属第一医院") {
		t.Fatalf("quality = %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "quality", "--duplicates", "--data", dir)
	if code != 0 || !strings.Contains(out, "suspected duplicate pairs") {
		t.Fatalf("quality --duplicates = %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "quality", "--stale-months", "0", "--data", dir); code != 2 || !strings.Contains(errs, "--stale-months") {
		t.Fatalf("quality --stale-months 0 = %d %q; want exit 2 naming the flag", code, errs)
	}
}
