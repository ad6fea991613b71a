package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

// AddFeedback implements medmatch.Store.
func (s *Store) AddFeedback(ctx context.Context, v medmatch.Viewer, f *medmatch.Feedback) error {
	if v.Anonymous() {
		return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "sign in or send an API key to record feedback")
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		var recs [2]medmatch.Record
		for i, ref := range []medmatch.Ref{f.Source, f.Target} {
			r, err := reader{t}.Record(ref.Kind, ref.ID)
			if err != nil {
				return err
			}
			if r == nil || !medmatch.CanRead(v, r) {
				field := [2]string{"source", "target"}[i]
				return medmatch.Errorf(medmatch.ENOTFOUND, field, "no %s %q", ref.Kind, ref.ID)
			}
			recs[i] = r
		}
		if err := medmatch.CanGiveFeedback(v, recs[0], recs[1]); err != nil {
			return err
		}
		cur, _, err := t.get(s.Key("fbseq"))
		if err != nil {
			return err
		}
		seq := atoi(cur) + 1
		f.ID = fmt.Sprintf("fb-%d", seq)
		f.By, f.Principal, f.At = v.KeyID, v.Owner(), s.now().UTC()
		data, err := json.Marshal(f)
		if err != nil {
			return err
		}
		t.set(s.Key("fbseq"), strconv.Itoa(seq))
		list := s.Key("fb")
		t.queue(func(p redis.Pipeliner) { p.RPush(ctx, list, data) })
		return nil
	})
}

// Feedback implements medmatch.Store.
func (s *Store) Feedback(ctx context.Context, v medmatch.Viewer, fn func(medmatch.Feedback) error) error {
	if err := staffOnly(v, "read feedback"); err != nil {
		return err
	}
	const batch = 1000
	for start := int64(0); ; start += batch {
		items, err := s.rdb.LRange(ctx, s.Key("fb"), start, start+batch-1).Result()
		if err != nil {
			return unavailable(err)
		}
		for _, data := range items {
			if err := ctx.Err(); err != nil {
				return err
			}
			var f medmatch.Feedback
			if err := json.Unmarshal([]byte(data), &f); err != nil {
				return err
			}
			if err := fn(f); err != nil {
				return err
			}
		}
		if len(items) < batch {
			return nil
		}
	}
}

func staffOnly(v medmatch.Viewer, what string) error {
	if v.Anonymous() {
		return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "an organizer or admin key is needed to %s", what)
	}
	if !v.Staff() {
		return medmatch.Errorf(medmatch.EFORBIDDEN, "", "only organizers and admins %s", what)
	}
	return nil
}

func (s *Store) artKey(name string) string { return s.Key("art", name) }

func (s *Store) artDataKey(name string, version int64) string {
	return s.Key("artdata", name, strconv.FormatInt(version, 10))
}

// PutArtifact implements medmatch.Store.
func (s *Store) PutArtifact(ctx context.Context, v medmatch.Viewer, a *medmatch.Artifact) error {
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return err
	}
	if !medmatch.ValidArtifactName(a.Name) {
		return medmatch.Errorf(medmatch.EINVALID, "name", "is not a valid artifact name")
	}
	if len(a.Data) > medmatch.MaxArtifactSize {
		return medmatch.Errorf(medmatch.EINVALID, "data", "is %d bytes; at most %d", len(a.Data), medmatch.MaxArtifactSize)
	}
	return s.update(ctx, func(t *txn) error {
		key := s.artKey(a.Name)
		last, _, err := t.hget(key, "last")
		if err != nil {
			return err
		}
		a.Version, a.CreatedAt, a.Size, a.Active = int64(atoi(last))+1, s.now().UTC(), len(a.Data), false
		meta, err := json.Marshal(a)
		if err != nil {
			return err
		}
		ver := strconv.FormatInt(a.Version, 10)
		t.hset(key, "v"+ver, string(meta))
		t.hset(key, "last", ver)
		t.hset(key, "active", ver)
		t.set(s.artDataKey(a.Name, a.Version), string(a.Data))
		t.after = append(t.after, func() { a.Active = true })
		return nil
	})
}

// Artifact implements medmatch.Store.
func (s *Store) Artifact(ctx context.Context, name string, version int64) (*medmatch.Artifact, error) {
	key := s.artKey(name)
	active, err := s.rdb.HGet(ctx, key, "active").Int64()
	if err != nil && err != redis.Nil {
		return nil, unavailable(err)
	}
	if version == 0 {
		version = active
	}
	meta, err := s.rdb.HGet(ctx, key, "v"+strconv.FormatInt(version, 10)).Result()
	if err == redis.Nil {
		if version == 0 {
			return nil, medmatch.Errorf(medmatch.ENOTFOUND, "name", "no %s has been stored", name)
		}
		return nil, medmatch.Errorf(medmatch.ENOTFOUND, "version", "no version %d of %s", version, name)
	} else if err != nil {
		return nil, unavailable(err)
	}
	a := new(medmatch.Artifact)
	if err := json.Unmarshal([]byte(meta), a); err != nil {
		return nil, err
	}
	a.Active = version == active
	data, err := s.rdb.Get(ctx, s.artDataKey(name, version)).Bytes()
	if err != nil && err != redis.Nil {
		return nil, unavailable(err)
	}
	a.Data = data
	return a, nil
}

// Artifacts implements medmatch.Store.
func (s *Store) Artifacts(ctx context.Context, name string) ([]medmatch.Artifact, error) {
	all, err := s.rdb.HGetAll(ctx, s.artKey(name)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	active := int64(atoi(all["active"]))
	var out []medmatch.Artifact
	for f, meta := range all {
		if !strings.HasPrefix(f, "v") {
			continue
		}
		var a medmatch.Artifact
		if err := json.Unmarshal([]byte(meta), &a); err != nil {
			return nil, err
		}
		a.Active = a.Version == active
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}

// ActivateArtifact implements medmatch.Store.
func (s *Store) ActivateArtifact(ctx context.Context, v medmatch.Viewer, name string, version int64) error {
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		key := s.artKey(name)
		ver := strconv.FormatInt(version, 10)
		if _, ok, err := t.hget(key, "v"+ver); err != nil {
			return err
		} else if !ok {
			return medmatch.Errorf(medmatch.ENOTFOUND, "version", "no version %d of %s", version, name)
		}
		t.hset(key, "active", ver)
		return nil
	})
}
