package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/cascade-rec/cascade/features"
	"github.com/cascade-rec/cascade/params"
)

// A parameter block (a model's, a ranker's, the feature stage's) is decoded key by key, so that an
// unknown key or a value of the wrong type is reported at its own key (and list element), then
// as a whole over the defaults, and validated. A model's or ranker's value may be a list: the
// grid of every combination, each one a Trial.

// Trial is one combination of a model's parameter grid, decoded into the model kind's typed
// parameters.
type Trial struct {
	Values map[string]any // the combination, as written in the file
	Params any            // pointer to the kind's parameter struct
}

// Label renders the combination as "a=1, b=2" (keys sorted).
func (t Trial) Label() string {
	keys := make([]string, 0, len(t.Values))
	for k := range t.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, t.Values[k])
	}
	return strings.Join(parts, ", ")
}

// labelWithout is Label without the given keys: trials that share it train the same model.
func (t Trial) labelWithout(skip []string) string {
	vals := make(map[string]any, len(t.Values))
	for k, v := range t.Values {
		if !slices.Contains(skip, k) {
			vals[k] = v
		}
	}
	return Trial{Values: vals}.Label()
}

// Grid expands the named model's parameters into trials (one when no parameter is a list).
func (c *Config) Grid(model string) ([]Trial, error) {
	m, ok := c.Models[model]
	if !ok {
		return nil, fmt.Errorf("no model named %q", model)
	}
	return c.grid(model, kinds[m.Type])
}

func (c *Config) grid(name string, kind *modelKind) ([]Trial, error) {
	m := c.Models[name]
	return c.expand("models."+name+".params", "type "+m.Type, m.Params, kind.newParams, nil)
}

// expand turns the parameter block at key into its grid: every combination of the values of the
// keys given as lists, each decoded over newParams and validated. listKeys are parameters whose
// single value is a list: for them only a list of lists is a grid.
func (c *Config) expand(key, what string, raw map[string]any, newParams func() any, listKeys []string) ([]Trial, error) {
	keys := slices.Sorted(maps.Keys(raw))
	lists := make([][]any, len(keys))
	grid := make([]bool, len(keys)) // the key's list is a grid (not one list value)
	for i, k := range keys {
		if err := c.checkParamKey(key, what, k, newParams); err != nil {
			return nil, err
		}
		switch v := raw[k].(type) {
		case []any:
			if len(v) == 0 {
				return nil, c.errorf(params.Join(key, k), "an empty list leaves nothing to try")
			}
			lists[i], grid[i] = v, true
			if slices.Contains(listKeys, k) {
				if _, nested := v[0].([]any); !nested {
					lists[i], grid[i] = []any{v}, false // one list value, not a grid
				}
			}
		case map[string]any:
			return nil, c.errorf(params.Join(key, k), "must be a value or a list of values, not a mapping")
		default:
			lists[i] = []any{v}
		}
		for j, v := range lists[i] {
			at := params.Join(key, k)
			if grid[i] {
				at = fmt.Sprintf("%s[%d]", at, j)
			}
			if err := c.checkParamValue(at, k, v, newParams); err != nil {
				return nil, err
			}
		}
	}
	var trials []Trial
	idx := make([]int, len(keys))
	for {
		vals := make(map[string]any, len(keys))
		elem := map[string]int{} // grid keys: the index of the combination's value
		for i, k := range keys {
			vals[k] = lists[i][idx[i]]
			if grid[i] {
				elem[k] = idx[i]
			}
		}
		p := newParams()
		err := decodeAs(vals, p)
		if err == nil {
			err = validate(p)
		}
		if err != nil {
			return nil, c.paramsError(key, err, vals, elem, newParams)
		}
		trials = append(trials, Trial{Values: vals, Params: p})
		// Odometer increment over the lists.
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(lists[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	return trials, nil
}

// checkParamKey refuses a key the parameters of newParams do not have.
func (c *Config) checkParamKey(key, what, k string, newParams func() any) error {
	known := yamlKeys(reflect.TypeOf(newParams()))
	switch {
	case slices.Contains(known, k):
		return nil
	case len(known) == 0:
		return c.errorf(params.Join(key, k), "%s takes no parameters", what)
	}
	return c.errorf(params.Join(key, k), "unknown parameter for %s%s", what, didYouMean(k, known))
}

// checkParamValue refuses a value v of parameter k, at key path at, that does not decode into
// the parameter's type, naming the list element at fault.
func (c *Config) checkParamValue(at, k string, v any, newParams func() any) error {
	if decodeAs(map[string]any{k: v}, newParams()) == nil {
		return nil
	}
	sub, msg := mismatch(typeAt(reflect.TypeOf(newParams()), k), v)
	return c.errorf(at+sub, "%s", msg)
}

// validate runs p's Validate method, if it has one.
func validate(p any) error {
	if v, ok := p.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// paramsError locates the error of decoding or validating the parameter block at key with vals:
// at the keys of its params.FieldErrors, in the list element the combination took for a grid key
// (elem). A validator that returns plain errors (lightgbm's, until it returns FieldError) is
// located at the first key whose value fails on its own over the defaults, else at the block.
func (c *Config) paramsError(key string, err error, vals map[string]any, elem map[string]int, newParams func() any) error {
	fields := params.Fields(err)
	if len(fields) == 0 {
		fe := params.FieldError{Msg: oneLine(err)}
		for _, k := range slices.Sorted(maps.Keys(vals)) {
			p := newParams()
			if decodeAs(map[string]any{k: vals[k]}, p) != nil || validate(p) != nil {
				fe.Path = k
				break
			}
		}
		fields = []params.FieldError{fe}
	}
	errs := make([]error, len(fields))
	for i, fe := range fields {
		if segs := segments(fe.Path); len(segs) > 0 {
			if j, ok := elem[segs[0]]; ok {
				fe.Path = fmt.Sprintf("%s[%d]%s", segs[0], j, fe.Path[len(segs[0]):])
			}
		}
		errs[i] = fe
	}
	return c.located(key, errors.Join(errs...))
}

// featureListKeys are the feature parameters whose value is a list.
var featureListKeys = []string{"features", "numeric_columns"}

// featureConfig decodes the feature stage's parameters: one value per key, no grids.
func (c *Config) featureConfig() (features.Config, error) {
	fc := features.DefaultConfig()
	if c.Features == nil {
		return fc, nil
	}
	const key = "features.params"
	newParams := func() any { p := features.DefaultConfig(); return &p }
	raw := c.Features.Params
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if err := c.checkParamKey(key, "the feature stage", k, newParams); err != nil {
			return fc, err
		}
		if _, ok := raw[k].([]any); ok && !slices.Contains(featureListKeys, k) {
			return fc, c.errorf(params.Join(key, k), "grids are for models; give one value")
		}
		if err := c.checkParamValue(params.Join(key, k), k, raw[k], newParams); err != nil {
			return fc, err
		}
	}
	if err := decodeAs(raw, &fc); err != nil {
		return fc, c.errorf(key, "%s", oneLine(err))
	}
	if err := fc.Validate(); err != nil {
		return fc, c.located(key, err)
	}
	return fc, nil
}

// rankerListKeys are ranker parameters whose single value is a list.
var rankerListKeys = []string{"hidden", "eval_at"}

// rankerTrials expands ranker i's parameters and drop_features into its grid. Each trial's
// Values holds the combination (drop_features included when given) and Drop the selectors.
func (c *Config) rankerTrials(i int) ([]rankerTrial, error) {
	r := c.Rankers[i]
	kind := rankerKinds[r.Type]
	key := fmt.Sprintf("rankers[%d]", i)
	trials, err := c.expand(key+".params", "ranker type "+r.Type, r.Params, kind.newParams, rankerListKeys)
	if err != nil {
		return nil, err
	}
	drops := [][]string{nil}
	if len(r.DropFeatures) > 0 {
		drops = drops[:0]
		lists := [][]any{r.DropFeatures}
		at := []string{key + ".drop_features"} // the key path of each list
		if _, nested := r.DropFeatures[0].([]any); nested {
			lists, at = lists[:0], at[:0]
			for j, v := range r.DropFeatures {
				l, ok := v.([]any)
				if !ok {
					return nil, c.errorf(fmt.Sprintf("%s.drop_features[%d]", key, j), "a grid of feature lists needs a list at every position")
				}
				lists, at = append(lists, l), append(at, fmt.Sprintf("%s.drop_features[%d]", key, j))
			}
		}
		for j, l := range lists {
			var sel []string
			for m, v := range l {
				s, ok := v.(string)
				if !ok || !features.ValidSelector(s) {
					return nil, c.errorf(fmt.Sprintf("%s[%d]", at[j], m), "%s is not a feature or family name (known: %s)", renderValue(v), strings.Join(features.FixedNames(), ", ")+", and the families "+strings.Join(features.FamilyNames(), ", "))
				}
				sel = append(sel, s)
			}
			drops = append(drops, sel)
		}
	}
	var out []rankerTrial
	for _, tr := range trials {
		for _, d := range drops {
			vals := maps.Clone(tr.Values)
			if len(r.DropFeatures) > 0 {
				vals["drop_features"] = "[" + strings.Join(d, " ") + "]"
			}
			out = append(out, rankerTrial{Trial: Trial{Values: vals, Params: tr.Params}, Drop: d})
		}
	}
	// Name each trial by the values that tell it from its siblings.
	for i := range out {
		out[i].grid = map[string]any{}
		for k, v := range out[i].Values {
			for _, o := range out {
				if fmt.Sprint(o.Values[k]) != fmt.Sprint(v) {
					out[i].grid[k] = v
					break
				}
			}
		}
	}
	return out, nil
}

// rankerTrial is one combination of a ranker's grid.
type rankerTrial struct {
	Trial
	Drop []string       // feature selectors the ranker does not read
	grid map[string]any // the values that vary across the ranker's grid
}

// gridLabel is Label restricted to the values that vary across the grid.
func (t rankerTrial) gridLabel() string { return Trial{Values: t.grid}.Label() }

// grid expands the ranking data's lists into one configuration per combination, the file's
// first values first.
func (rd RankingDataConfig) grid() []RankingDataConfig {
	var out []RankingDataConfig
	for _, h := range rd.HorizonDays {
		for _, u := range rd.MaxPerUser {
			v := rd
			v.HorizonDays, v.MaxPerUser = OneOrMore[float64]{h}, OneOrMore[int]{u}
			out = append(out, v)
		}
	}
	return out
}

// label names rd's values among the grid's (empty when there is no grid).
func (rd RankingDataConfig) label(all RankingDataConfig) string {
	var parts []string
	if len(all.HorizonDays) > 1 {
		parts = append(parts, fmt.Sprintf("horizon_days=%v", rd.HorizonDays[0]))
	}
	if len(all.MaxPerUser) > 1 {
		parts = append(parts, fmt.Sprintf("max_requests_per_user=%v", rd.MaxPerUser[0]))
	}
	return strings.Join(parts, ", ")
}
