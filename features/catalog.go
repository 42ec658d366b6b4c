package features

import "strings"

// The fixed features, in schema order. The index of each is its fid.
const (
	fLogPrior fid = iota
	fLogPriorDecayed
	fItemAgeDays
	fItemDaysSinceLast
	fItemRecentPop
	fItemMeanRating
	fHistLen
	fDaysSinceLast
	fUserMeanRating
	fGenreShare
	fGenreMatchMax
	fCooc
	fCoocMax
	fCoocCos
	numFixed
)

// fid identifies a fixed feature.
type fid int

// def names and documents a fixed feature or a family.
type def struct {
	name string
	doc  string
}

// fixed documents every fixed feature; t is the request time (Query.Time), and "before t" means
// events of the statistics window with a time < t.
var fixed = [numFixed]def{
	fLogPrior:          {"log_prior", "log((c + 1) / (N + M)): c the item's events before t, N all events before t, M the catalog size (add-one smoothing; equals popularity.LogPrior once t is past the window)"},
	fLogPriorDecayed:   {"log_prior_decayed", "log_prior with every event weighted 2^(−age/half_life_days) at t: log((ĉ + 1) / (N̂ + M))"},
	fItemAgeDays:       {"item_age_days", "days from the item's first event to t; NaN if it has none before t"},
	fItemDaysSinceLast: {"item_days_since_last", "days from the item's latest event before t to t; NaN if it has none"},
	fItemRecentPop:     {"item_recent_pop", "the item's events in [t − recent_days, t)"},
	fItemMeanRating:    {"item_mean_rating", "mean explicit rating of the item's events before t; NaN if none is rated"},
	fHistLen:           {"hist_len", "number of history entries (Query.History, repeats included)"},
	fDaysSinceLast:     {"days_since_last", "days from the last history time to t; NaN without history times"},
	fUserMeanRating:    {"user_mean_rating", "mean of the history's explicit ratings; NaN if none"},
	fGenreShare:        {"genre_share", "share of the distinct known history items having at least one attribute_column value of the candidate; NaN if the candidate has no value or the history no known item"},
	fGenreMatchMax:     {"genre_match_max", "max over the candidate's attribute_column values v of the share of distinct known history items having v; NaN as genre_share"},
	fCooc:              {"cooc", "Σ over the last cooc_history distinct history items h of log(1 + c(h, j)): c(h, j) counts the pairs of events of h and the candidate j by one user at most cooc_window events apart, timed at the later event, before t, for j among h's cooc_top_k most frequent partners; NaN for an unknown candidate or no known history item"},
	fCoocMax:           {"cooc_max", "max over the same h of log(1 + c(h, j)); NaN as cooc"},
	fCoocCos:           {"cooc_cos", "Σ over the same h of c(h, j) / √(n(h)·n(j)), n the item's events before t (a cosine-normalised cooc); NaN as cooc"},
}

// The families, in schema order.
const (
	famScore = iota
	famRank
	famPMI
	famSrc
	famSrcScore
	famSrcRank
	famAttr
	famAttrDiff
	numFamilies
)

// families documents every family: a group of features named <name>_<key>, one per model,
// source or numeric column.
var families = [numFamilies]def{
	famScore:    {"score", "score_<model>: the model's score (candidates.Scorer); NaN for items it does not know"},
	famRank:     {"rank", "rank_<model>: 1 + the number of candidates of the batch with a higher score_<model>; NaN where the score is NaN"},
	famPMI:      {"pmi", "pmi_<model>: score_<model> − log_prior, the PMI-style score of a model trained with the popularity in its softmax"},
	famSrc:      {"src", "src_<source>: 1 if the retrieval source proposed the candidate, else 0"},
	famSrcScore: {"srcscore", "srcscore_<source>: the source's own score of the candidate; NaN if it did not propose it"},
	famSrcRank:  {"srcrank", "srcrank_<source>: the candidate's 1-based rank in the source's list; NaN if not proposed"},
	famAttr:     {"attr", "attr_<column>: the item's numeric attribute (e.g. year); NaN if unknown"},
	famAttrDiff: {"attrdiff", "attrdiff_<column>: attr_<column> − its mean over the distinct known history items that have it; NaN if either is unknown"},
}

func fixedIndex(name string) (fid, bool) {
	for i := range fixed {
		if fixed[i].name == name {
			return fid(i), true
		}
	}
	return 0, false
}

// Describe returns the definition of a feature name (fixed, or a member of a family), or "" for
// a name this package does not define.
func Describe(name string) string {
	if i, ok := fixedIndex(name); ok {
		return fixed[i].doc
	}
	for _, f := range families {
		if strings.HasPrefix(name, f.name+"_") && len(name) > len(f.name)+1 {
			return f.doc
		}
	}
	return ""
}

// FixedNames returns the names of the fixed features, in schema order (for help texts).
func FixedNames() []string {
	out := make([]string, numFixed)
	for i := range fixed {
		out[i] = fixed[i].name
	}
	return out
}

// FamilyNames returns the family names, in schema order.
func FamilyNames() []string {
	out := make([]string, numFamilies)
	for i := range families {
		out[i] = families[i].name
	}
	return out
}

// snake turns a column, model or source name into the snake_case suffix of a feature name:
// lower case, every run of other characters than [a-z0-9] becomes one '_'.
func snake(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
