package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/medmatch/medmatch"
)

// txReader reads a write transaction for medmatch.PrepareWrite.
type txReader struct{ tx *bbolt.Tx }

func (r txReader) Record(k medmatch.Kind, id string) (medmatch.Record, error) {
	return get(r.tx, k, id)
}

func (r txReader) ExternalID(k medmatch.Kind, ext string) (string, error) {
	return string(r.tx.Bucket(extBucket(k)).Get([]byte(ext))), nil
}

// put checks r (medmatch.PrepareWrite), stores it in tx and appends a
// change. It returns the action taken. r is updated to the stored form.
func (s *Store) put(tx *bbolt.Tx, v medmatch.Viewer, r medmatch.Record, mode medmatch.WriteMode) (string, error) {
	now := s.now().UTC()
	old, action, err := medmatch.PrepareWrite(txReader{tx}, v, s.tax, r, mode, now)
	if err != nil {
		return "", err
	}
	k, m := r.Kind(), r.Base()
	exts := tx.Bucket(extBucket(k))
	if old != nil {
		if oe := old.Base().ExternalID; oe != "" && oe != m.ExternalID {
			if err := exts.Delete([]byte(oe)); err != nil {
				return "", err
			}
		}
		if err := s.unindex(tx, old); err != nil {
			return "", err
		}
	}
	if m.ExternalID != "" {
		if err := exts.Put([]byte(m.ExternalID), []byte(m.ID)); err != nil {
			return "", err
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", k, err)
	}
	if err := tx.Bucket(recBucket(k)).Put([]byte(m.ID), data); err != nil {
		return "", err
	}
	if err := s.index(tx, r); err != nil {
		return "", err
	}
	return action, s.appendChange(tx, medmatch.Change{Kind: k, ID: m.ID, Op: medmatch.OpPut, At: now})
}

// index adds r's counters and references; unindex removes them.
func (s *Store) index(tx *bbolt.Tx, r medmatch.Record) error {
	if d, ok := r.(*medmatch.Demand); ok {
		if err := tx.Bucket(bucketRefs).Put(refKey(d), nil); err != nil {
			return err
		}
	}
	return bump(tx.Bucket(bucketCounts), medmatch.CountKeys(r), 1)
}

func (s *Store) unindex(tx *bbolt.Tx, r medmatch.Record) error {
	if d, ok := r.(*medmatch.Demand); ok {
		if err := tx.Bucket(bucketRefs).Delete(refKey(d)); err != nil {
			return err
		}
	}
	return bump(tx.Bucket(bucketCounts), medmatch.CountKeys(r), -1)
}

func refKey(d *medmatch.Demand) []byte { return []byte(d.EnterpriseID + "\x00" + d.ID) }

func (s *Store) appendChange(tx *bbolt.Tx, c medmatch.Change) error {
	b := tx.Bucket(bucketChanges)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	c.Seq = seq
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return b.Put(seqKey(seq), data)
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// update runs fn in a write transaction and wakes Wait callers when the
// commit appended changes.
func (s *Store) update(fn func(tx *bbolt.Tx) error) error {
	var head uint64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		head = tx.Bucket(bucketChanges).Sequence()
		return nil
	})
	if err == nil && head > s.head.Load() {
		s.head.Store(head)
		s.mu.Lock()
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
	return err
}

// Create implements medmatch.Store.
func (s *Store) Create(ctx context.Context, v medmatch.Viewer, r medmatch.Record) (medmatch.Record, error) {
	err := s.update(func(tx *bbolt.Tx) error {
		_, err := s.put(tx, v, r, medmatch.WriteCreate)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Update implements medmatch.Store.
func (s *Store) Update(ctx context.Context, v medmatch.Viewer, r medmatch.Record) (medmatch.Record, error) {
	if r.Base().ID == "" {
		return nil, medmatch.Errorf(medmatch.EINVALID, "id", "is required to update")
	}
	err := s.update(func(tx *bbolt.Tx) error {
		_, err := s.put(tx, v, r, medmatch.WriteUpdate)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Delete implements medmatch.Store.
func (s *Store) Delete(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, id string) error {
	if !k.Valid() {
		return medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
	}
	return s.update(func(tx *bbolt.Tx) error {
		old, err := get(tx, k, id)
		if err != nil {
			return err
		}
		if old == nil || (!v.Anonymous() && !medmatch.CanRead(v, old)) {
			return notFound(k, id)
		}
		if err := medmatch.CanWrite(v, old, nil); err != nil {
			return err
		}
		if k == medmatch.KindEnterprise {
			c := tx.Bucket(bucketRefs).Cursor()
			prefix := []byte(id + "\x00")
			if key, _ := c.Seek(prefix); key != nil && len(key) > len(prefix) && string(key[:len(prefix)]) == string(prefix) {
				return medmatch.Errorf(medmatch.ECONFLICT, "id", "enterprise %q still has demands (e.g. %s); delete them first", id, key[len(prefix):])
			}
		}
		if ext := old.Base().ExternalID; ext != "" {
			if err := tx.Bucket(extBucket(k)).Delete([]byte(ext)); err != nil {
				return err
			}
		}
		if err := s.unindex(tx, old); err != nil {
			return err
		}
		if err := tx.Bucket(recBucket(k)).Delete([]byte(id)); err != nil {
			return err
		}
		return s.appendChange(tx, medmatch.Change{Kind: k, ID: id, Op: medmatch.OpDelete, At: s.now().UTC()})
	})
}

var errRollback = errors.New("rollback")

// Import implements medmatch.Store. All records are written in one
// transaction. put checks everything before it writes anything, so a
// rejected record leaves no trace: with SkipInvalid the others are
// committed; without it one rejected record rolls back the lot; with DryRun
// everything is rolled back after the report is made.
func (s *Store) Import(ctx context.Context, v medmatch.Viewer, recs []medmatch.Record, opt medmatch.ImportOptions) (*medmatch.ImportResult, error) {
	if v.Anonymous() {
		return nil, medmatch.CanWrite(v, nil, nil)
	}
	var res *medmatch.ImportResult
	var given []string
	err := s.update(func(tx *bbolt.Tx) error {
		if opt.IfEmpty {
			for _, k := range medmatch.Kinds {
				if count(tx.Bucket(bucketCounts), string(k)+"|all") > 0 {
					res = &medmatch.ImportResult{DryRun: opt.DryRun, Skipped: true}
					return nil
				}
			}
		}
		var err error
		res, given, err = medmatch.ImportRows(ctx, recs, opt, func(r medmatch.Record) (string, error) {
			return s.put(tx, v, r, medmatch.WriteUpsert)
		})
		if err != nil {
			return err
		}
		res.Seq = tx.Bucket(bucketChanges).Sequence()
		if !res.Commit(opt) {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		res.RolledBack(given)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}
