package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/medmatch/medmatch"
)

// Head implements medmatch.Store.
func (s *Store) Head(ctx context.Context) (uint64, error) { return s.head.Load(), nil }

// Changes implements medmatch.Store.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]medmatch.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []medmatch.Change
	err := s.db.View(func(tx *bbolt.Tx) error {
		if t := trimmed(tx); since < t {
			return medmatch.Errorf(medmatch.ETRIMMED, "since", "changes up to %d were compacted; rebuild from the store", t)
		}
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(seqKey(since + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ch medmatch.Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}

func trimmed(tx *bbolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(keyTrimmed)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// Wait implements medmatch.Store.
func (s *Store) Wait(ctx context.Context, after uint64) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if s.head.Load() > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Scan implements medmatch.Store. It runs in one read transaction, which
// sees the store as of one commit.
func (s *Store) Scan(ctx context.Context, fn func(medmatch.Record) error) (uint64, error) {
	var seq uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		seq = tx.Bucket(bucketChanges).Sequence()
		for _, k := range medmatch.Kinds {
			err := tx.Bucket(recBucket(k)).ForEach(func(_, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				r, err := decode(k, v)
				if err != nil {
					return err
				}
				return fn(r)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return seq, err
}

// maxCompact bounds the changes one Ack deletes, to keep its transaction short.
const maxCompact = 10000

// Ack implements medmatch.Store. Changes every registered consumer has
// applied are deleted, at most maxCompact per call.
func (s *Store) Ack(ctx context.Context, consumer string, seq uint64) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		cons := tx.Bucket(bucketConsumers)
		if err := cons.Put([]byte(consumer), seqKey(seq)); err != nil {
			return err
		}
		low := seq
		if err := cons.ForEach(func(_, v []byte) error {
			if n := binary.BigEndian.Uint64(v); n < low {
				low = n
			}
			return nil
		}); err != nil {
			return err
		}
		t := trimmed(tx)
		if low <= t {
			return nil
		}
		c := tx.Bucket(bucketChanges).Cursor()
		n := 0
		var last uint64
		for k, _ := c.First(); k != nil && n < maxCompact; k, _ = c.Next() {
			q := binary.BigEndian.Uint64(k)
			if q > low {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
			last = q
			n++
		}
		if n == 0 {
			return nil
		}
		return tx.Bucket(bucketMeta).Put(keyTrimmed, seqKey(last))
	})
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
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		if b.Get([]byte(k.Hash)) != nil {
			return medmatch.Errorf(medmatch.ECONFLICT, "key", "key exists")
		}
		return b.Put([]byte(k.Hash), data)
	})
}

// KeyByHash implements medmatch.Store.
func (s *Store) KeyByHash(ctx context.Context, hash string) (*medmatch.Key, error) {
	var k *medmatch.Key
	err := s.db.View(func(tx *bbolt.Tx) error {
		data := tx.Bucket(bucketKeys).Get([]byte(hash))
		if data == nil {
			return medmatch.Errorf(medmatch.ENOTFOUND, "key", "unknown key")
		}
		k = new(medmatch.Key)
		return json.Unmarshal(data, k)
	})
	return k, err
}
