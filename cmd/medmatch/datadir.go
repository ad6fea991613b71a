package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/redisstore"
)

// serverFile is written into the data dir by `serve` so that other commands
// can reach it. It holds a token that the server accepts as an admin key:
// the file is readable only by its owner, so only a user who can read the
// data dir (and so the store) can use it.
const serverFileName = "server.json"

type serverInfo struct {
	Addr     string    `json:"addr"`
	PID      int       `json:"pid"`
	Instance string    `json:"instance"`
	Token    string    `json:"token"`
	Started  time.Time `json:"started"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeServerFile(dir string, info serverInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, serverFileName+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, serverFileName))
}

func readServerFile(dir string) *serverInfo {
	data, err := os.ReadFile(filepath.Join(dir, serverFileName))
	if err != nil {
		return nil
	}
	var info serverInfo
	if json.Unmarshal(data, &info) != nil || info.Addr == "" {
		return nil
	}
	return &info
}

// liveServer returns the server named by the data dir's address file if it
// answers as that instance; a stale file left by a crash is ignored.
func liveServer(ctx context.Context, dir string) *client {
	info := readServerFile(dir)
	if info == nil {
		return nil
	}
	c := newClient(info.Addr, info.Token)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var got struct {
		Instance string `json:"instance"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/server", nil, "", &got); err != nil || got.Instance != info.Instance {
		return nil
	}
	return c
}

// openStore opens the embedded store of dir. When another process holds it,
// the error names that process (from the address file) in one line. With
// REDIS_URL set it refuses: a user who configured shared state must not
// silently get a local one; commands talk to `medmatch serve` instead.
func openStore(dir string) (*bolt.Store, error) {
	if os.Getenv("REDIS_URL") != "" {
		return nil, usagef("REDIS_URL is set and no medmatch serve answers for --data %s: start `medmatch serve` (it uses Redis) and run this command again, or unset REDIS_URL to use the embedded store", dir)
	}
	tax, err := dict.Taxonomy()
	if err != nil {
		return nil, err
	}
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: tax})
	if errors.Is(err, bolt.ErrLocked) {
		if info := readServerFile(dir); info != nil {
			return nil, medmatch.Errorf(medmatch.ECONFLICT, "data",
				"data dir %s is held by medmatch serve (pid %d, http://%s), which does not answer; stop it or wait until it is ready", dir, info.PID, info.Addr)
		}
		return nil, medmatch.Errorf(medmatch.ECONFLICT, "data", "data dir %s is in use by another process", dir)
	}
	return s, err
}

// target is where a command acts: a running server, or the store opened
// directly when no server holds the data dir.
type target struct {
	remote *client
	store  *bolt.Store
}

func connect(ctx context.Context, dir string) (*target, error) {
	if c := liveServer(ctx, dir); c != nil {
		return &target{remote: c}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, bolt.FileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	return &target{store: s}, nil
}

func (t *target) Close() error {
	if t.store != nil {
		return t.store.Close()
	}
	return nil
}

func (t *target) String() string {
	if t.remote != nil {
		return "server " + t.remote.base
	}
	return "store " + t.store.Path()
}

func nowUTC() time.Time { return time.Now().UTC() }

// localIndex opens the index of the store this command holds, and returns
// the viewer of key (anonymous when empty). EUNAUTHORIZED for an unknown key.
func (t *target) localIndex(ctx context.Context, data, key string, opt ...indexer.Options) (*indexer.Index, medmatch.Viewer, error) {
	v := medmatch.Viewer{}
	if key != "" {
		k, err := t.store.KeyByHash(ctx, medmatch.HashKey(key))
		if err != nil {
			return nil, v, medmatch.Errorf(medmatch.EUNAUTHORIZED, "key", "unknown API key")
		}
		v = k.Viewer()
	}
	var o indexer.Options
	if len(opt) > 0 {
		o = opt[0]
	}
	ix, err := indexer.Open(ctx, indexer.Dir(data), t.store, o)
	return ix, v, err
}

// localMatcher opens the index (without suggestions, which matching does
// not use) and a matcher over the store this command holds; close closes
// the index.
func (t *target) localMatcher(ctx context.Context, data, key string, log *slog.Logger) (m *matcher.Matcher, v medmatch.Viewer, close func(), err error) {
	ix, v, err := t.localIndex(ctx, data, key, indexer.Options{Logger: log, NoSuggestions: true})
	if err != nil {
		return nil, v, nil, err
	}
	if m, err = matcher.New(ctx, t.store, ix, matcher.Options{Logger: log}); err != nil {
		ix.Close()
		return nil, v, nil, err
	}
	return m, v, func() { ix.Close() }, nil
}

// sessionSecret is the key that signs the web pages' sign-in cookies:
// with Redis, one shared by every replica (set once, kept in Redis); with
// the embedded store, data/session.key (mode 0600), created on first use.
// Either way a restart keeps users signed in.
func (s *Server) sessionSecret(ctx context.Context) ([]byte, error) {
	if rs, ok := s.store.(*redisstore.Store); ok {
		key := rs.Key("session-secret")
		if err := rs.Client().SetNX(ctx, key, randomHex(32), 0).Err(); err != nil {
			return nil, fmt.Errorf("session secret: %w", err)
		}
		b, err := rs.Client().Get(ctx, key).Bytes()
		if err != nil {
			return nil, fmt.Errorf("session secret: %w", err)
		}
		return b, nil
	}
	return fileSecret(filepath.Join(s.Data, "session.key"))
}

// replicaID names this replica (data/replica.id, made on first use).
func replicaID(dir string) (string, error) {
	b, err := fileSecret(filepath.Join(dir, "replica.id"))
	if err != nil {
		return "", err
	}
	return string(b[:12]), nil
}

// redactURL hides a URL's password for the log.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// fileSecret reads a random token from path, creating it on first use.
func fileSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = []byte(randomHex(32))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}
