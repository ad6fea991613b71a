package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/medmatch/medmatch"
)

var (
	bucketFeedback     = []byte("feedback")      // sequence → Feedback JSON
	bucketArtifactInfo = []byte("artifact_info") // name \x00 version → Artifact JSON without data
	bucketArtifactData = []byte("artifact_data") // name \x00 version → data
	bucketArtifactHead = []byte("artifact_head") // name → active version
)

func artifactKey(name string, version int64) []byte {
	k := make([]byte, len(name)+1+8)
	copy(k, name)
	binary.BigEndian.PutUint64(k[len(name)+1:], uint64(version))
	return k
}

// AddFeedback implements medmatch.Store.
func (s *Store) AddFeedback(ctx context.Context, v medmatch.Viewer, f *medmatch.Feedback) error {
	if v.Anonymous() {
		return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "sign in or send an API key to record feedback")
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		var recs [2]medmatch.Record
		for i, ref := range []medmatch.Ref{f.Source, f.Target} {
			r, err := get(tx, ref.Kind, ref.ID)
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
		b := tx.Bucket(bucketFeedback)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		f.ID = fmt.Sprintf("fb-%d", seq)
		f.By, f.Principal, f.At = v.KeyID, v.Owner(), s.now().UTC()
		data, err := json.Marshal(f)
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), data)
	})
}

// Feedback implements medmatch.Store.
func (s *Store) Feedback(ctx context.Context, v medmatch.Viewer, fn func(medmatch.Feedback) error) error {
	if err := staffOnly(v, "read feedback"); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketFeedback).ForEach(func(_, data []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var f medmatch.Feedback
			if err := json.Unmarshal(data, &f); err != nil {
				return err
			}
			return fn(f)
		})
	})
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
	return s.update(func(tx *bbolt.Tx) error {
		info := tx.Bucket(bucketArtifactInfo)
		var last int64
		prefix := append([]byte(a.Name), 0)
		c := info.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			last = int64(binary.BigEndian.Uint64(k[len(prefix):]))
		}
		a.Version, a.CreatedAt, a.Size, a.Active = last+1, s.now().UTC(), len(a.Data), false
		meta, err := json.Marshal(a)
		if err != nil {
			return err
		}
		key := artifactKey(a.Name, a.Version)
		if err := info.Put(key, meta); err != nil {
			return err
		}
		if err := tx.Bucket(bucketArtifactData).Put(key, a.Data); err != nil {
			return err
		}
		a.Active = true
		return tx.Bucket(bucketArtifactHead).Put([]byte(a.Name), seqKey(uint64(a.Version)))
	})
}

func activeVersion(tx *bbolt.Tx, name string) int64 {
	if b := tx.Bucket(bucketArtifactHead).Get([]byte(name)); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// Artifact implements medmatch.Store.
func (s *Store) Artifact(ctx context.Context, name string, version int64) (*medmatch.Artifact, error) {
	var a *medmatch.Artifact
	err := s.db.View(func(tx *bbolt.Tx) error {
		active := activeVersion(tx, name)
		if version == 0 {
			version = active
		}
		key := artifactKey(name, version)
		meta := tx.Bucket(bucketArtifactInfo).Get(key)
		if meta == nil {
			if version == 0 {
				return medmatch.Errorf(medmatch.ENOTFOUND, "name", "no %s has been stored", name)
			}
			return medmatch.Errorf(medmatch.ENOTFOUND, "version", "no version %d of %s", version, name)
		}
		a = new(medmatch.Artifact)
		if err := json.Unmarshal(meta, a); err != nil {
			return err
		}
		a.Active = version == active
		a.Data = append([]byte(nil), tx.Bucket(bucketArtifactData).Get(key)...)
		return nil
	})
	return a, err
}

// Artifacts implements medmatch.Store.
func (s *Store) Artifacts(ctx context.Context, name string) ([]medmatch.Artifact, error) {
	var out []medmatch.Artifact
	err := s.db.View(func(tx *bbolt.Tx) error {
		active := activeVersion(tx, name)
		prefix := append([]byte(name), 0)
		c := tx.Bucket(bucketArtifactInfo).Cursor()
		for k, meta := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, meta = c.Next() {
			var a medmatch.Artifact
			if err := json.Unmarshal(meta, &a); err != nil {
				return err
			}
			a.Active = a.Version == active
			out = append(out, a)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// ActivateArtifact implements medmatch.Store.
func (s *Store) ActivateArtifact(ctx context.Context, v medmatch.Viewer, name string, version int64) error {
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketArtifactInfo).Get(artifactKey(name, version)) == nil {
			return medmatch.Errorf(medmatch.ENOTFOUND, "version", "no version %d of %s", version, name)
		}
		return tx.Bucket(bucketArtifactHead).Put([]byte(name), seqKey(uint64(version)))
	})
}
