// Package redisstore is the medmatch.Store on Redis (go-redis v9), so that
// several `medmatch serve` replicas share one state. It holds exactly what
// the embedded store (bolt) holds and passes the same contract suite.
//
// Keys all carry one hash tag, {NS} (NS is Options.Namespace), so they
// live in one slot and every write is one MULTI/EXEC, also on a Redis
// Cluster:
//
//	{NS}:w                 write counter: every write transaction WATCHes and bumps it
//	{NS}:seq               the change feed's head (sequence of the last change)
//	{NS}:feed              the change feed, a stream; entry id "<seq>-0", field c = Change JSON
//	{NS}:trimmed           changes up to this sequence were trimmed away
//	{NS}:consumers         hash consumer → "<last sequence applied>:<unix time of the ack>"
//	{NS}:rec:KIND:ID       a record's JSON
//	{NS}:ids:KIND          sorted set of ids (score 0, ordered by id) for listing
//	{NS}:ext:KIND          hash external id → id
//	{NS}:refs              hash enterprise id → how many demands refer to it
//	{NS}:counts            hash of the counters of medmatch.CountKeys
//	{NS}:keys              hash key hash → Key JSON
//	{NS}:fb, {NS}:fbseq    list of Feedback JSON and its id counter
//	{NS}:art:NAME          hash "v<N>" → Artifact JSON without data; "last", "active"
//	{NS}:artdata:NAME:N    an artifact version's data
//	{NS}:events            hash event id → Event JSON
//	{NS}:gen               hash kind → writes to records of that kind (cache generations)
//	{NS}:cache:KEY         a cached match result (medmatch.Cache), with a TTL
//
// Concurrency is optimistic, as one bbolt writer is pessimistic: a write
// WATCHes {NS}:w, reads what it needs, and commits its writes with an
// increment of {NS}:w in one MULTI/EXEC; if another write committed in
// between, EXEC fails and the write runs again. Writes are therefore
// serializable, and the change feed's sequence numbers are given in
// commit order with no gaps. The feed has one partition: the per-record
// order a consumer needs is the global order, and on a cluster the whole
// store lives in one slot.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

// Options configure a Store.
type Options struct {
	// Taxonomy validates specialties and fields. Required.
	Taxonomy *medmatch.Taxonomy
	// Namespace prefixes every key (inside the hash tag); default
	// "medmatch". Stores with different namespaces share a server
	// without seeing each other.
	Namespace string
	// Now returns the time for timestamps; time.Now when nil.
	Now func() time.Time
	// ConsumerTTL is how long a change-feed consumer that stopped
	// acknowledging still holds trimming back; default DefaultConsumerTTL.
	ConsumerTTL time.Duration
}

// DefaultConsumerTTL: a replica away for longer rebuilds its index when it
// returns, if the feed was trimmed past it meanwhile.
const DefaultConsumerTTL = 24 * time.Hour

// Store is a medmatch.Store on Redis.
type Store struct {
	rdb redis.UniversalClient
	tax *medmatch.Taxonomy
	now func() time.Time
	ns  string
	ttl time.Duration

	closeOnce sync.Once
}

var _ medmatch.Store = (*Store)(nil)

// Open connects to the Redis at url (redis://[user:pass@]host:port/db, or
// rediss:// for TLS) and checks that it answers.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	if opt.Taxonomy == nil {
		return nil, fmt.Errorf("redisstore.Open: no taxonomy")
	}
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, medmatch.Errorf(medmatch.EINVALID, "redis", "is not a Redis URL (redis://host:port/db): %v", err)
	}
	ro.MaxRetries = 3
	return New(ctx, redis.NewClient(ro), opt)
}

// New makes a Store over an existing client (a plain or a cluster client).
func New(ctx context.Context, rdb redis.UniversalClient, opt Options) (*Store, error) {
	if opt.Taxonomy == nil {
		return nil, fmt.Errorf("redisstore.New: no taxonomy")
	}
	if opt.Namespace == "" {
		opt.Namespace = "medmatch"
	}
	if strings.ContainsAny(opt.Namespace, "{}") {
		return nil, medmatch.Errorf(medmatch.EINVALID, "namespace", "must not contain { or }")
	}
	s := &Store{rdb: rdb, tax: opt.Taxonomy, now: opt.Now, ns: opt.Namespace, ttl: opt.ConsumerTTL}
	if s.ttl <= 0 {
		s.ttl = DefaultConsumerTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, unavailable(err)
	}
	return s, nil
}

// Close implements medmatch.Store.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.rdb.Close() })
	return err
}

// Client is the Redis client, for the shared cache and leases.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Key returns the name of one of the store's keys: {NS}:parts...
func (s *Store) Key(parts ...string) string {
	return "{" + s.ns + "}:" + strings.Join(parts, ":")
}

func (s *Store) recKey(k medmatch.Kind, id string) string { return s.Key("rec", string(k), id) }

// unavailable turns a Redis connection error into a 503-class error.
func unavailable(err error) error {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) || strings.Contains(err.Error(), "connection refused") {
		return &medmatch.Error{Code: medmatch.EUNAVAILABLE, Message: "the Redis store is unavailable: " + err.Error()}
	}
	return fmt.Errorf("redis: %w", err)
}

func decode(k medmatch.Kind, data string) (medmatch.Record, error) {
	r := medmatch.NewRecord(k)
	if err := json.Unmarshal([]byte(data), r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k, err)
	}
	return r, nil
}

// txn is one optimistic write transaction: reads go to Redis (under
// WATCH) through an overlay of the transaction's own writes, which are
// queued and sent in one MULTI/EXEC.
type txn struct {
	s      *Store
	tx     *redis.Tx
	ctx    context.Context
	strs   map[string]*string            // key → value, nil: deleted
	hashes map[string]map[string]*string // key → field → value, nil: deleted
	incrs  map[string]map[string]int64   // hash key → field → delta
	ops    []func(redis.Pipeliner)
	after  []func() // run once the transaction committed
}

func (t *txn) get(key string) (string, bool, error) {
	if v, ok := t.strs[key]; ok {
		if v == nil {
			return "", false, nil
		}
		return *v, true, nil
	}
	v, err := t.tx.Get(t.ctx, key).Result()
	if err == redis.Nil {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (t *txn) set(key, val string) {
	t.strs[key] = &val
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.Set(t.ctx, key, val, 0) })
}

func (t *txn) del(key string) {
	t.strs[key] = nil
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.Del(t.ctx, key) })
}

func (t *txn) hget(key, field string) (string, bool, error) {
	if h, ok := t.hashes[key]; ok {
		if v, ok := h[field]; ok {
			if v == nil {
				return "", false, nil
			}
			return *v, true, nil
		}
	}
	v, err := t.tx.HGet(t.ctx, key, field).Result()
	if err == redis.Nil {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (t *txn) hset(key, field, val string) {
	if t.hashes[key] == nil {
		t.hashes[key] = map[string]*string{}
	}
	t.hashes[key][field] = &val
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HSet(t.ctx, key, field, val) })
}

func (t *txn) hdel(key, field string) {
	if t.hashes[key] == nil {
		t.hashes[key] = map[string]*string{}
	}
	t.hashes[key][field] = nil
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HDel(t.ctx, key, field) })
}

// hincr adds delta to a numeric hash field (the write is queued; hcount
// reads the stored value plus the queued deltas).
func (t *txn) hincr(key, field string, delta int64) {
	if t.incrs[key] == nil {
		t.incrs[key] = map[string]int64{}
	}
	t.incrs[key][field] += delta
}

func (t *txn) hcount(key, field string) (int64, error) {
	v, err := t.tx.HGet(t.ctx, key, field).Int64()
	if err != nil && err != redis.Nil {
		return 0, err
	}
	return v + t.incrs[key][field], nil
}

func (t *txn) queue(op func(redis.Pipeliner)) { t.ops = append(t.ops, op) }

// maxAttempts bounds the retries of a write that keeps losing the race.
const maxAttempts = 200

// update runs fn in a write transaction, again while another write wins
// the race. fn must not have effects outside the txn (it may run several
// times); errRollback ends it without writing.
func (s *Store) update(ctx context.Context, fn func(t *txn) error) error {
	w := s.Key("w")
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var after []func()
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			t := &txn{s: s, tx: tx, ctx: ctx, strs: map[string]*string{}, hashes: map[string]map[string]*string{}, incrs: map[string]map[string]int64{}}
			if err := fn(t); err != nil {
				return err
			}
			after = t.after
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, op := range t.ops {
					op(p)
				}
				for key, fields := range t.incrs {
					for f, d := range fields {
						if d != 0 {
							p.HIncrBy(ctx, key, f, d)
						}
					}
				}
				p.Incr(ctx, w)
				return nil
			})
			return err
		}, w)
		if err == redis.TxFailedErr {
			// Another write committed first: back off a little, run again.
			time.Sleep(time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond)
			continue
		}
		if err != nil {
			var me *medmatch.Error
			if errors.As(err, &me) || errors.Is(err, errRollback) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return unavailable(err)
		}
		for _, f := range after {
			f()
		}
		return nil
	}
	return medmatch.Errorf(medmatch.EUNAVAILABLE, "", "the store is too busy: a write lost %d races in a row; retry", maxAttempts)
}

var errRollback = errors.New("rollback")

// appendChanges queues the changes with the next sequence numbers.
func (t *txn) appendChange(c medmatch.Change) error {
	seqKey := t.s.Key("seq")
	cur, _, err := t.get(seqKey)
	if err != nil {
		return err
	}
	n, _ := strconv.ParseUint(cur, 10, 64)
	n++
	c.Seq = n
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	t.set(seqKey, strconv.FormatUint(n, 10))
	feed := t.s.Key("feed")
	id := strconv.FormatUint(n, 10) + "-0"
	t.queue(func(p redis.Pipeliner) {
		p.XAdd(t.ctx, &redis.XAddArgs{Stream: feed, ID: id, Values: []any{"c", string(data)}})
	})
	return nil
}
