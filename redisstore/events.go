package redisstore

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

func (t *txn) exists(k medmatch.Kind, id string) (bool, error) {
	_, ok, err := t.get(t.s.recKey(k, id))
	return ok, err
}

// PutEvent implements medmatch.Store.
func (s *Store) PutEvent(ctx context.Context, v medmatch.Viewer, e *medmatch.Event) error {
	e.Normalize()
	if err := e.Validate(); err != nil {
		return err
	}
	given, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		*e = medmatch.Event{}
		if err := json.Unmarshal(given, e); err != nil {
			return err
		}
		key := s.Key("events")
		var old *medmatch.Event
		if e.ID != "" {
			data, ok, err := t.hget(key, e.ID)
			if err != nil {
				return err
			}
			if ok {
				old = new(medmatch.Event)
				if err := json.Unmarshal([]byte(data), old); err != nil {
					return err
				}
			}
		}
		if err := medmatch.PrepareEventWrite(v, old, e, t.exists, s.now()); err != nil {
			return err
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		t.hset(key, e.ID, string(data))
		return nil
	})
}

// Event implements medmatch.Store.
func (s *Store) Event(ctx context.Context, v medmatch.Viewer, id string) (*medmatch.Event, error) {
	data, err := s.rdb.HGet(ctx, s.Key("events"), id).Result()
	if err != nil && err != redis.Nil {
		return nil, unavailable(err)
	}
	var e *medmatch.Event
	if err == nil {
		e = new(medmatch.Event)
		if err := json.Unmarshal([]byte(data), e); err != nil {
			return nil, err
		}
	}
	if e == nil || !medmatch.CanReadEvent(v, e) {
		return nil, medmatch.Errorf(medmatch.ENOTFOUND, "id", "no event %q", id)
	}
	return e, nil
}

// Events implements medmatch.Store.
func (s *Store) Events(ctx context.Context, v medmatch.Viewer) ([]*medmatch.Event, error) {
	all, err := s.rdb.HGetAll(ctx, s.Key("events")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := []*medmatch.Event{}
	for _, data := range all {
		e := new(medmatch.Event)
		if err := json.Unmarshal([]byte(data), e); err != nil {
			return nil, err
		}
		if medmatch.CanReadEvent(v, e) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
