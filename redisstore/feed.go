package redisstore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

// Head implements medmatch.Store.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	v, err := s.rdb.Get(ctx, s.Key("seq")).Uint64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return v, nil
}

func (s *Store) trimmed(ctx context.Context) (uint64, error) {
	v, err := s.rdb.Get(ctx, s.Key("trimmed")).Uint64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return v, nil
}

// Changes implements medmatch.Store: XRANGE from since+1.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]medmatch.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	t, err := s.trimmed(ctx)
	if err != nil {
		return nil, err
	}
	if since < t {
		return nil, medmatch.Errorf(medmatch.ETRIMMED, "since", "changes up to %d were trimmed; rebuild from the store", t)
	}
	msgs, err := s.rdb.XRangeN(ctx, s.Key("feed"), strconv.FormatUint(since+1, 10)+"-0", "+", int64(limit)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]medmatch.Change, 0, len(msgs))
	for _, m := range msgs {
		data, _ := m.Values["c"].(string)
		var c medmatch.Change
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	// A trim between the check and the read would leave a gap: check again.
	if t2, err := s.trimmed(ctx); err != nil {
		return nil, err
	} else if since < t2 {
		return nil, medmatch.Errorf(medmatch.ETRIMMED, "since", "changes up to %d were trimmed; rebuild from the store", t2)
	}
	return out, nil
}

// waitBlock bounds one blocking read of Wait, so a cancelled context is
// noticed soon.
const waitBlock = time.Second

// Wait implements medmatch.Store: a blocking XREAD for an entry after
// "after", so a replica hears of another replica's write at once.
func (s *Store) Wait(ctx context.Context, after uint64) error {
	for {
		head, err := s.Head(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Redis is away: wait a little and ask again.
			select {
			case <-time.After(200 * time.Millisecond):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if head > after {
			return nil
		}
		_, err = s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{s.Key("feed"), strconv.FormatUint(after, 10) + "-0"}, Count: 1, Block: waitBlock}).Result()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && err != redis.Nil {
			select {
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// Scan implements medmatch.Store. Redis has no snapshot to read: Scan
// takes the head first, then reads every record. A record written during
// the scan is read in its new state and its change (after the head) is
// replayed by the consumer, which reads the record again: since changes
// name records and consumers apply the current state, both converge.
func (s *Store) Scan(ctx context.Context, fn func(medmatch.Record) error) (uint64, error) {
	head, err := s.Head(ctx)
	if err != nil {
		return 0, err
	}
	for _, k := range medmatch.Kinds {
		err := s.eachRecord(ctx, k, "", func(r medmatch.Record) (bool, error) { return true, fn(r) })
		if err != nil {
			return 0, err
		}
	}
	return head, nil
}

// Ack implements medmatch.Store. Changes every live consumer has applied
// are trimmed from the stream (XTRIM MINID), and the trim point is kept
// so that a consumer behind it gets ETRIMMED and rebuilds. A consumer that
// has not acknowledged for Options.ConsumerTTL (a replica taken away for
// good; live ones acknowledge at least every minute) no longer holds the
// trimming back.
func (s *Store) Ack(ctx context.Context, consumer string, seq uint64) error {
	return s.update(ctx, func(t *txn) error {
		cons := s.Key("consumers")
		now := s.now().Unix()
		all, err := t.tx.HGetAll(ctx, cons).Result()
		if err != nil {
			return err
		}
		t.hset(cons, consumer, strconv.FormatUint(seq, 10)+":"+strconv.FormatInt(now, 10))
		low := seq
		for name, v := range all {
			if name == consumer {
				continue
			}
			n, at := parseAck(v)
			if now-at > int64(s.ttl/time.Second) {
				continue
			}
			low = min(low, n)
		}
		cur, _, err := t.get(s.Key("trimmed"))
		if err != nil {
			return err
		}
		if low <= uint64(atoi(cur)) {
			return nil
		}
		t.set(s.Key("trimmed"), strconv.FormatUint(low, 10))
		feed, minID := s.Key("feed"), strconv.FormatUint(low+1, 10)+"-0"
		t.queue(func(p redis.Pipeliner) { p.XTrimMinID(ctx, feed, minID) })
		return nil
	})
}

// parseAck reads a consumer's "seq:unixtime".
func parseAck(v string) (uint64, int64) {
	seq, at, _ := strings.Cut(v, ":")
	n, _ := strconv.ParseUint(seq, 10, 64)
	u, _ := strconv.ParseInt(at, 10, 64)
	return n, u
}

// CreateKey implements medmatch.Store.
func (s *Store) CreateKey(ctx context.Context, v medmatch.Viewer, k *medmatch.Key) error {
	if v.Role != medmatch.RoleAdmin {
		if v.Anonymous() {
			return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "an admin key is needed to create keys")
		}
		return medmatch.Errorf(medmatch.EFORBIDDEN, "", "only admins create keys")
	}
	if err := k.Viewer().Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	ok, err := s.rdb.HSetNX(ctx, s.Key("keys"), k.Hash, data).Result()
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return medmatch.Errorf(medmatch.ECONFLICT, "key", "key exists")
	}
	return nil
}

// KeyByHash implements medmatch.Store.
func (s *Store) KeyByHash(ctx context.Context, hash string) (*medmatch.Key, error) {
	data, err := s.rdb.HGet(ctx, s.Key("keys"), hash).Result()
	if err == redis.Nil {
		return nil, medmatch.Errorf(medmatch.ENOTFOUND, "key", "unknown key")
	} else if err != nil {
		return nil, unavailable(err)
	}
	k := new(medmatch.Key)
	return k, json.Unmarshal([]byte(data), k)
}
