package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/api"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/matcher/roadshow"
	"github.com/medmatch/medmatch/redisstore"
)

// drainTimeout is how long shutdown waits for requests in flight; well
// under the 30 s most process supervisors allow before a hard kill.
const drainTimeout = 10 * time.Second

// Server is a running `medmatch serve`: tests start it on :0 in a temp dir.
type Server struct {
	Data string
	Addr string // listen address; the bound one after Open
	Demo bool
	Log  *slog.Logger
	// Redis, when set, is the URL of the Redis that holds the store
	// (several replicas share it); the data dir then holds only this
	// replica's index and files.
	Redis string
	// JobEvery is the period of the periodic jobs (request expiry), each
	// run on one replica at a time under a lease; default one minute.
	JobEvery time.Duration

	store medmatch.Store
	index *indexer.Index
	api   *api.Server
	http  *http.Server
	ln    net.Listener
	done  chan error
	stop  context.CancelFunc
	bg    sync.WaitGroup // background work that uses the store and index
}

// Open takes the data dir, starts listening (so /healthz answers 503 while
// loading), loads the demo catalogue if asked, opens the index, and marks
// the server ready. It returns when the server is ready.
func (s *Server) Open(ctx context.Context) error {
	start := time.Now()
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(s.Data, 0o755); err != nil {
		return err
	}
	var store medmatch.Store
	var err error
	consumer := "index"
	if s.Redis != "" {
		tax, terr := dict.Taxonomy()
		if terr != nil {
			return terr
		}
		if store, err = redisstore.Open(ctx, s.Redis, redisstore.Options{Taxonomy: tax}); err != nil {
			return err
		}
		// Each replica acknowledges the change feed under its own name, so
		// that trimming waits for the slowest one.
		id, err := replicaID(s.Data)
		if err != nil {
			store.Close()
			return err
		}
		consumer = "index-" + id
	} else if store, err = openStore(s.Data); err != nil {
		return err
	}
	s.store = store
	// Listen before the slow steps so a port in use is reported at once.
	s.ln, err = net.Listen("tcp", s.Addr)
	if err != nil {
		store.Close()
		return medmatch.Errorf(medmatch.ECONFLICT, "addr", "cannot listen on %s: %v", s.Addr, errors.Unwrap(err))
	}
	s.Addr = s.ln.Addr().String()
	info := serverInfo{Addr: s.Addr, PID: os.Getpid(), Instance: randomHex(8), Token: randomHex(24), Started: time.Now().UTC()}
	secret, err := s.sessionSecret(ctx)
	if err != nil {
		s.ln.Close()
		store.Close()
		return err
	}
	s.api = api.New(api.Config{Store: store, Logger: s.Log, Instance: info.Instance, LocalToken: info.Token, SessionSecret: secret, Demo: s.Demo})
	s.http = &http.Server{Handler: s.api.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
	s.done = make(chan error, 1)
	go func() { s.done <- s.http.Serve(s.ln) }()
	if err := writeServerFile(s.Data, info); err != nil {
		s.Close()
		return fmt.Errorf("write %s: %w", serverFileName, err)
	}
	s.Log.Info("listening", "addr", "http://"+s.Addr, "data", s.Data)

	if s.Demo {
		if err := s.loadDemo(ctx); err != nil {
			s.Close()
			return err
		}
	}
	if _, err := dict.Default(); err != nil {
		s.Close()
		return err
	}
	ix, err := indexer.Open(ctx, indexer.Dir(s.Data), store, indexer.Options{Logger: s.Log, Consumer: consumer})
	if err != nil {
		s.Close()
		return err
	}
	s.index = ix
	m, err := matcher.New(ctx, store, ix, matcher.Options{Logger: s.Log})
	if err != nil {
		s.Close()
		return err
	}
	fctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	if s.Demo {
		if err := s.trainDemo(ctx, fctx, m); err != nil {
			s.Close()
			return err
		}
	}
	go ix.Follow(fctx)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.runJobs(fctx, m, info.Instance)
	}()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		m.WarmLoop(fctx)
	}()
	s.api.SetIndex(ix, m)
	n, _ := ix.DocCount()
	s.Log.Info("ready", "addr", "http://"+s.Addr, "docs", n, "seq", ix.Applied(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// runJobs runs the periodic jobs under leases until ctx ends.
func (s *Server) runJobs(ctx context.Context, m *matcher.Matcher, holder string) {
	var l medmatch.Leaser = localLeaser{}
	if sl, ok := s.store.(medmatch.Leaser); ok {
		l = sl
	}
	every := s.JobEvery
	if every <= 0 {
		every = time.Minute
	}
	pl := &roadshow.Planner{Store: s.store, Matcher: m}
	runJobs(ctx, l, holder, []job{{name: "expire-requests", every: every, run: func(ctx context.Context) error {
		n, err := pl.ExpireRequests(ctx, medmatch.System)
		if n > 0 {
			s.Log.Info("meeting requests expired", "count", n)
		}
		return err
	}}}, s.Log)
}

// loadDemo imports the demo catalogue when the store holds no catalogue
// records; the check and the import are one transaction.
func (s *Server) loadDemo(ctx context.Context) error {
	recs, err := fixtures.Records()
	if err != nil {
		return err
	}
	res, err := s.store.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{IfEmpty: true})
	if err != nil {
		return fmt.Errorf("load demo catalogue: %w", err)
	}
	if res.Rejected > 0 {
		return fmt.Errorf("load demo catalogue: %d records rejected", res.Rejected)
	}
	if res.Skipped {
		s.Log.Info("demo catalogue not loaded: the store already holds records")
	} else {
		s.Log.Info("demo catalogue loaded", "records", res.Created)
	}
	// The demo events, when the store has none: also into a demo store made
	// before events existed. Another catalogue may lack their enterprises;
	// then they are left out, with a log line.
	if have, err := s.store.Events(ctx, medmatch.System); err != nil || len(have) > 0 {
		return err
	}
	events, err := fixtures.Events()
	if err != nil {
		return err
	}
	for _, e := range events {
		if err := s.store.PutEvent(ctx, medmatch.System, e); err != nil {
			if !res.Skipped {
				return fmt.Errorf("load demo event %s: %w", e.ID, err)
			}
			s.Log.Info("demo event not loaded", "event", e.ID, "reason", medmatch.ErrorMessage(err))
			continue
		}
		s.Log.Info("demo roadshow event loaded", "event", e.ID)
	}
	return nil
}

// trainDemo fits the semantic model (before the server is ready: it takes
// a fraction of a second) and then, in the background, learns weights from
// the demo judgments' training split — when the store holds no semantic
// model yet — so the demo shows explained matches at once and learned
// weights a few seconds later.
func (s *Server) trainDemo(ctx, bg context.Context, m *matcher.Matcher) error {
	if list, err := s.store.Artifacts(ctx, matcher.ArtifactModel); err != nil || len(list) > 0 {
		return err
	}
	rep, err := m.Train(ctx, medmatch.System, matcher.TrainRequest{})
	if err != nil {
		return fmt.Errorf("fit the semantic model on the demo catalogue: %w", err)
	}
	s.Log.Info("demo semantic model fitted", "version", rep.SemanticVersion, "terms", rep.SemanticTerms, "docs", rep.SemanticDocs, "took_ms", rep.TookMS)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := s.learnDemo(bg, m); err != nil && bg.Err() == nil {
			s.Log.Error("learn weights from the demo judgments", "err", err)
		}
	}()
	return nil
}

func (s *Server) learnDemo(ctx context.Context, m *matcher.Matcher) error {
	data, err := fixtures.MatchLabels()
	if err != nil {
		return err
	}
	raw, err := matcher.ReadLabels(bytes.NewReader(data))
	if err != nil {
		return err
	}
	var train []matcher.RawLabel
	for _, l := range raw {
		if l.Split == "train" {
			train = append(train, l)
		}
	}
	labels, err := matcher.ResolveLabels(ctx, s.store, medmatch.System, train)
	if err != nil {
		return fmt.Errorf("demo judgments: %w", err)
	}
	rep, err := m.Train(ctx, medmatch.System, matcher.TrainRequest{Labels: labels, Note: "demo: learned from the training split of fixtures/labels"})
	if err != nil {
		return err
	}
	s.Log.Info("demo weights learned", "weights_version", rep.WeightsVersion, "labels", rep.Labels, "queries", rep.Queries, "took_ms", rep.TookMS)
	return nil
}

// Wait blocks until the server stops serving.
func (s *Server) Wait() error {
	err := <-s.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close drains requests, stops following the change feed, removes the
// address file and releases the data dir.
func (s *Server) Close() error {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close()
		}
	}
	if s.stop != nil {
		s.stop()
	}
	s.bg.Wait()
	if info := readServerFile(s.Data); info != nil && info.Addr == s.Addr && info.PID == os.Getpid() {
		os.Remove(filepath.Join(s.Data, serverFileName))
	}
	var err error
	if s.index != nil {
		err = s.index.Close()
	}
	if s.store != nil {
		if cerr := s.store.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func runServe(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("serve", "[flags]", `
Runs the JSON API on --addr. With --demo, loads the demo catalogue (fixtures/)
when the store holds no catalogue records, and does nothing otherwise. The
server holds the data dir: other commands talk to it while it runs.`, std.Err)
	c.register(fs)
	addr := fs.String("addr", envOr("MEDMATCH_ADDR", "127.0.0.1:8080"), "listen address (env MEDMATCH_ADDR)")
	demo := fs.Bool("demo", false, "load the demo catalogue into an empty store")
	redisURL := fs.String("redis", os.Getenv("REDIS_URL"), "Redis URL (redis://host:port/db) of a store shared by several replicas; default: the embedded store in --data (env REDIS_URL)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	log, err := c.logger(std.Err)
	if err != nil {
		return err
	}
	log.Info("config", "data", c.data, "addr", *addr, "demo", *demo, "log_level", c.logLevel, "redis", redactURL(*redisURL))
	s := &Server{Data: c.data, Addr: *addr, Demo: *demo, Log: log, Redis: *redisURL}
	if err := s.Open(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down", "drain", drainTimeout)
	case err := <-s.done:
		s.done <- err
	}
	if err := s.Close(); err != nil {
		return err
	}
	return s.Wait()
}
