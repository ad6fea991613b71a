package bolt

import (
	"context"
	"encoding/json"
	"sort"

	bbolt "go.etcd.io/bbolt"

	"github.com/medmatch/medmatch"
)

var bucketEvents = []byte("events") // id → Event JSON

// PutEvent implements medmatch.Store.
func (s *Store) PutEvent(ctx context.Context, v medmatch.Viewer, e *medmatch.Event) error {
	e.Normalize()
	if err := e.Validate(); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		var old *medmatch.Event
		if e.ID != "" {
			if data := b.Get([]byte(e.ID)); data != nil {
				old = new(medmatch.Event)
				if err := json.Unmarshal(data, old); err != nil {
					return err
				}
			}
		}
		exists := func(k medmatch.Kind, id string) (bool, error) {
			return tx.Bucket(recBucket(k)).Get([]byte(id)) != nil, nil
		}
		if err := medmatch.PrepareEventWrite(v, old, e, exists, s.now()); err != nil {
			return err
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put([]byte(e.ID), data)
	})
}

// Event implements medmatch.Store.
func (s *Store) Event(ctx context.Context, v medmatch.Viewer, id string) (*medmatch.Event, error) {
	var e *medmatch.Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		data := tx.Bucket(bucketEvents).Get([]byte(id))
		if data != nil {
			e = new(medmatch.Event)
			if err := json.Unmarshal(data, e); err != nil {
				return err
			}
		}
		if e == nil || !medmatch.CanReadEvent(v, e) {
			e = nil
			return medmatch.Errorf(medmatch.ENOTFOUND, "id", "no event %q", id)
		}
		return nil
	})
	return e, err
}

// Events implements medmatch.Store.
func (s *Store) Events(ctx context.Context, v medmatch.Viewer) ([]*medmatch.Event, error) {
	out := []*medmatch.Event{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(_, data []byte) error {
			e := new(medmatch.Event)
			if err := json.Unmarshal(data, e); err != nil {
				return err
			}
			if medmatch.CanReadEvent(v, e) {
				out = append(out, e)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}
