package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/medmatch/medmatch"
)

// job is a periodic task that must run on one replica at a time.
type job struct {
	name  string
	every time.Duration
	run   func(context.Context) error
}

// leaseFactor: a lease lasts this many periods, so a holder that misses
// one renewal keeps it, and one that died loses it within three periods.
const leaseFactor = 3

// localLeaser grants every lease: one process owns an embedded store.
type localLeaser struct{}

func (localLeaser) Lease(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}
func (localLeaser) Release(context.Context, string, string) error { return nil }

// runJobs runs each job every period on the replica that holds its lease,
// until ctx ends; then it releases the leases it holds (a replica killed
// without releasing loses them when they expire, and another takes over).
func runJobs(ctx context.Context, l medmatch.Leaser, holder string, jobs []job, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func(j job) {
			defer wg.Done()
			held := false
			t := time.NewTicker(j.every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					if held {
						rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
						_ = l.Release(rctx, j.name, holder)
						cancel()
					}
					return
				case <-t.C:
				}
				ok, err := l.Lease(ctx, j.name, holder, leaseFactor*j.every)
				if err != nil {
					if ctx.Err() == nil {
						log.Warn("job lease", "job", j.name, "err", err)
					}
					continue
				}
				if ok != held {
					log.Info("job lease", "job", j.name, "held", ok)
					held = ok
				}
				if !ok {
					continue
				}
				if err := j.run(ctx); err != nil && ctx.Err() == nil {
					log.Error("job failed", "job", j.name, "err", err)
				}
			}
		}(j)
	}
	wg.Wait()
}
