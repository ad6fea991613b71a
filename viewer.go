package medmatch

import "fmt"

// Role is what a key or user may do.
type Role string

// Roles.
const (
	RoleAdmin       Role = "admin"       // everything, including keys
	RoleOrganizer   Role = "organizer"   // transfer-office staff and brokers: all records, all events
	RoleInstitution Role = "institution" // a hospital or university user bound to one institution
	RoleEnterprise  Role = "enterprise"  // a company user bound to one enterprise
	RoleReader      Role = "reader"      // read-only API client: what anonymous users see
)

// Roles lists the roles.
var Roles = []Role{RoleAdmin, RoleOrganizer, RoleInstitution, RoleEnterprise, RoleReader}

// Viewer is who is asking. The zero Viewer is an anonymous user. Every Store
// read and every index query takes one, so visibility is decided here and
// nowhere else.
type Viewer struct {
	Role        Role   // "" for anonymous
	Enterprise  string // enterprise id, for RoleEnterprise
	Institution string // institution name, for RoleInstitution
	KeyID       string // the key the request was made with, for the record
}

// System is the viewer of internal work (indexing, demo loading): it reads
// and writes everything.
var System = Viewer{Role: RoleAdmin, KeyID: "system"}

// Anonymous reports whether v carries no credentials.
func (v Viewer) Anonymous() bool { return v.Role == "" }

// Staff reports whether v reads every record (admins and organizers).
func (v Viewer) Staff() bool { return v.Role == RoleAdmin || v.Role == RoleOrganizer }

// Principals lists what v may read: a record is readable when its Audience
// shares a principal with this list.
func (v Viewer) Principals() []string {
	switch v.Role {
	case RoleAdmin, RoleOrganizer:
		return []string{PrincipalStaff}
	case RoleInstitution:
		return []string{PrincipalPublic, InstitutionPrincipal(v.Institution)}
	case RoleEnterprise:
		return []string{PrincipalPublic, EnterprisePrincipal(v.Enterprise)}
	}
	return []string{PrincipalPublic}
}

// CanRead reports whether v may read r.
func CanRead(v Viewer, r Record) bool {
	ps := v.Principals()
	for _, a := range r.Audience() {
		for _, p := range ps {
			if a == p {
				return true
			}
		}
	}
	return false
}

// ApplyDefaults fills the fields whose default depends on the writer: the
// status of achievements and clinical needs is published when staff write
// them and draft when an institution does.
func ApplyDefaults(v Viewer, r Record) {
	def := StatusPublished
	if !v.Staff() {
		def = StatusDraft
	}
	switch r := r.(type) {
	case *Achievement:
		if r.Status == "" {
			r.Status = def
		}
	case *ClinicalNeed:
		if r.Status == "" {
			r.Status = def
		}
	}
}

// institutionStatuses are the statuses an institution user may set; review
// and publication are for organizers.
var institutionStatuses = []Status{StatusDraft, StatusSubmitted, StatusWithdrawn}

// CanWrite returns nil when v may replace old with new (old nil: create;
// new nil: delete). It returns EUNAUTHORIZED for anonymous viewers and
// EFORBIDDEN, naming the field where one is at fault, otherwise.
func CanWrite(v Viewer, old, new Record) error {
	if v.Anonymous() {
		return Errorf(EUNAUTHORIZED, "", "sign in or send an API key (Authorization: Bearer KEY) to write")
	}
	if v.Staff() {
		return nil
	}
	// The old record must be the viewer's own; the new one too, and its
	// status one the viewer may set. The old status does not matter: an
	// institution edits and resubmits after changes were requested.
	if old != nil {
		if err := ownWrite(v, old, false); err != nil {
			return err
		}
	}
	if new != nil {
		if err := ownWrite(v, new, true); err != nil {
			return err
		}
	}
	if old == nil && new != nil && new.Kind() == KindEnterprise {
		return Errorf(EFORBIDDEN, "", "only organizers create enterprises")
	}
	if new == nil && old != nil && old.Kind() == KindEnterprise {
		return Errorf(EFORBIDDEN, "", "only organizers delete enterprises")
	}
	return nil
}

func ownWrite(v Viewer, r Record, checkStatus bool) error {
	deny := func(field, format string, args ...any) error {
		return Errorf(EFORBIDDEN, field, "%s", fmt.Sprintf(format, args...))
	}
	switch v.Role {
	case RoleInstitution:
		var owner string
		var status Status
		switch r := r.(type) {
		case *Achievement:
			owner, status = r.Institution, r.Status
		case *ClinicalNeed:
			owner, status = r.Hospital, r.Status
		case *Team:
			owner = r.Institution
		default:
			return deny("", "an institution key cannot write %s records", r.Kind())
		}
		field := "institution"
		if r.Kind() == KindNeed {
			field = "hospital"
		}
		if owner != v.Institution {
			return deny(field, "this key writes records of %q only", v.Institution)
		}
		if checkStatus && status != "" && !oneOf(status, institutionStatuses) {
			return deny("status", "an institution may set status %s; organizers review and publish", codes(institutionStatuses))
		}
		return nil
	case RoleEnterprise:
		switch r := r.(type) {
		case *Demand:
			if r.EnterpriseID != v.Enterprise {
				return deny("enterprise_id", "this key writes demands of enterprise %q only", v.Enterprise)
			}
			return nil
		case *Enterprise:
			if r.ID != v.Enterprise {
				return deny("id", "this key writes enterprise %q only", v.Enterprise)
			}
			return nil
		}
		return deny("", "an enterprise key cannot write %s records", r.Kind())
	case RoleReader:
		return deny("", "a reader key is read-only")
	}
	return deny("", "role %q cannot write", v.Role)
}

// Validate checks that the viewer's binding matches its role.
func (v Viewer) Validate() error {
	switch v.Role {
	case RoleEnterprise:
		if v.Enterprise == "" {
			return Errorf(EINVALID, "enterprise", "an enterprise key needs --enterprise ID")
		}
		if v.Institution != "" {
			return Errorf(EINVALID, "institution", "an enterprise key cannot be bound to an institution")
		}
	case RoleInstitution:
		if v.Institution == "" {
			return Errorf(EINVALID, "institution", "an institution key needs --institution NAME")
		}
		if v.Enterprise != "" {
			return Errorf(EINVALID, "enterprise", "an institution key cannot be bound to an enterprise")
		}
	case RoleAdmin, RoleOrganizer, RoleReader:
		if v.Enterprise != "" || v.Institution != "" {
			return Errorf(EINVALID, "role", "role %s is not bound to an enterprise or institution", v.Role)
		}
	default:
		return Errorf(EINVALID, "role", "unknown role %q (want one of %s)", v.Role, codes(Roles))
	}
	return nil
}
