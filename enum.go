package medmatch

import "strings"

// Maturity is a development stage on one ladder shared by devices, drugs,
// diagnostics and software. Stages are ordered: a later stage is more mature.
//
//	code              devices / IVD                    drugs                          software
//	idea              concept, clinical problem        target hypothesis              concept
//	proof_of_concept  bench principle shown            lead compound, in-vitro data   algorithm on retrospective data
//	prototype         working prototype / sample       candidate, process developed   working version
//	preclinical       animal study, type testing       GLP tox / pharmacology         validation on external data, type testing
//	clinical_trial    clinical investigation           phase I–III                    clinical investigation
//	registration      filed for NMPA registration      NDA / BLA filed                filed for registration (class II/III)
//	registered        registration certificate held    approval held                  registration certificate held
//	marketed          on sale                          on sale                        in routine use / on sale
type Maturity string

// The maturity ladder, in order.
const (
	MaturityIdea           Maturity = "idea"
	MaturityProofOfConcept Maturity = "proof_of_concept"
	MaturityPrototype      Maturity = "prototype"
	MaturityPreclinical    Maturity = "preclinical"
	MaturityClinicalTrial  Maturity = "clinical_trial"
	MaturityRegistration   Maturity = "registration"
	MaturityRegistered     Maturity = "registered"
	MaturityMarketed       Maturity = "marketed"
)

// Maturities lists the ladder in order.
var Maturities = []Maturity{MaturityIdea, MaturityProofOfConcept, MaturityPrototype, MaturityPreclinical,
	MaturityClinicalTrial, MaturityRegistration, MaturityRegistered, MaturityMarketed}

// Rank is the stage's 1-based place on the ladder, 0 if unknown.
func (m Maturity) Rank() int {
	for i, x := range Maturities {
		if m == x {
			return i + 1
		}
	}
	return 0
}

// IPType is the kind of intellectual property protecting an achievement.
type IPType string

// IP types.
const (
	IPInvention         IPType = "invention"          // 发明专利
	IPUtilityModel      IPType = "utility_model"      // 实用新型
	IPDesign            IPType = "design"             // 外观设计
	IPSoftwareCopyright IPType = "software_copyright" // 软件著作权
)

// IPTypes lists the IP types.
var IPTypes = []IPType{IPInvention, IPUtilityModel, IPDesign, IPSoftwareCopyright}

// IPStatus is the legal state of an achievement's IP.
type IPStatus string

// IP statuses.
const (
	IPNone    IPStatus = "none"
	IPFiled   IPStatus = "filed"
	IPGranted IPStatus = "granted"
	IPLapsed  IPStatus = "lapsed"
)

// IPStatuses lists the IP statuses.
var IPStatuses = []IPStatus{IPNone, IPFiled, IPGranted, IPLapsed}

// TransferMode is a way an achievement can change hands.
type TransferMode string

// Transfer modes.
const (
	TransferLicense       TransferMode = "license"        // 许可
	TransferAssignment    TransferMode = "assignment"     // 转让
	TransferCoDevelopment TransferMode = "co_development" // 合作开发
	TransferEquity        TransferMode = "equity"         // 作价入股
)

// TransferModes lists the transfer modes.
var TransferModes = []TransferMode{TransferLicense, TransferAssignment, TransferCoDevelopment, TransferEquity}

// Status is the workflow state of an achievement or clinical need.
type Status string

// Statuses. Only published and transferred records are shown outside the
// owning institution and the organizers.
const (
	StatusDraft            Status = "draft"
	StatusSubmitted        Status = "submitted"
	StatusChangesRequested Status = "changes_requested"
	StatusPublished        Status = "published"
	StatusWithdrawn        Status = "withdrawn"
	StatusTransferred      Status = "transferred"
)

// Statuses lists the statuses.
var Statuses = []Status{StatusDraft, StatusSubmitted, StatusChangesRequested, StatusPublished, StatusWithdrawn, StatusTransferred}

// Listed reports whether a record in this status is shown to the public
// (subject to its Visibility).
func (s Status) Listed() bool { return s == StatusPublished || s == StatusTransferred }

// Visibility says who may see a listed achievement or clinical need.
type Visibility string

// Visibilities of achievements and clinical needs.
const (
	VisibilityPublic     Visibility = "public"
	VisibilityOrganizers Visibility = "organizers" // organizers and the owning institution only
)

// Visibilities lists the visibilities of achievements and clinical needs.
var Visibilities = []Visibility{VisibilityPublic, VisibilityOrganizers}

// DemandVisibility says who may see an enterprise's demand.
type DemandVisibility string

// Demand visibilities.
const (
	DemandPublic  DemandVisibility = "public"
	DemandPrivate DemandVisibility = "private" // the enterprise and organizers only
)

// DemandVisibilities lists the demand visibilities.
var DemandVisibilities = []DemandVisibility{DemandPublic, DemandPrivate}

// DemandStatus says whether an enterprise still looks for a technology.
type DemandStatus string

// Demand statuses.
const (
	DemandOpen   DemandStatus = "open"
	DemandClosed DemandStatus = "closed"
)

// DemandStatuses lists the demand statuses.
var DemandStatuses = []DemandStatus{DemandOpen, DemandClosed}

// Size is an enterprise's size class.
type Size string

// Enterprise sizes.
const (
	SizeMicro  Size = "micro"
	SizeSmall  Size = "small"
	SizeMedium Size = "medium"
	SizeLarge  Size = "large"
)

// Sizes lists the enterprise sizes.
var Sizes = []Size{SizeMicro, SizeSmall, SizeMedium, SizeLarge}

func oneOf[T ~string](x T, list []T) bool {
	for _, y := range list {
		if x == y {
			return true
		}
	}
	return false
}

func codes[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// checkEnum adds an error when x is set but not in list, or unset and required.
func checkEnum[T ~string](v *validator, field string, x T, list []T, required bool) {
	if x == "" {
		if required {
			v.add(field, "is required (one of %s)", codes(list))
		}
		return
	}
	if !oneOf(x, list) {
		v.add(field, "unknown value %q (want one of %s)", string(x), codes(list))
	}
}

// checkEnums checks every element of a list of codes and removes nothing.
func checkEnums[T ~string](v *validator, field string, xs []T, list []T) {
	for i, x := range xs {
		if !oneOf(x, list) {
			v.add(field, "item %d: unknown value %q (want one of %s)", i+1, string(x), codes(list))
		}
	}
}

// normCodes lower-cases and trims codes and drops empty items and duplicates.
func normCodes[T ~string](xs []T) []T { return mapUnique(xs, normCode[T]) }

// mapUnique applies f to every item and keeps the non-empty results, each
// once, in order; nil when none is left.
func mapUnique[T ~string](xs []T, f func(T) T) []T {
	out := make([]T, 0, len(xs))
	seen := make(map[T]bool, len(xs))
	for _, x := range xs {
		x = f(x)
		if x == "" || seen[x] {
			continue
		}
		seen[x] = true
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func normCode[T ~string](x T) T { return T(strings.ToLower(strings.TrimSpace(string(x)))) }
