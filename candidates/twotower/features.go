package twotower

import (
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/dataset"
)

// itemFeatures is the item tower's fixed input besides the item ID: one bag of value IDs per
// categorical attribute column, and the numeric attributes standardised (unknown → 0) with a
// missing flag each.
type itemFeatures struct {
	cats []catFeature
	// numeric holds numItems rows of 2·len(numNames) values: standardised value, missing flag.
	numeric  []float32
	numNames []string
	means    []float32
	stds     []float32
}

// catFeature is one categorical column in compressed form: item i's value IDs are
// ids[off[i]:off[i+1]].
type catFeature struct {
	name string
	dict *dataset.Dict // value strings → IDs (nil when the column has none)
	card int           // number of distinct values (embedding rows)
	off  []int32
	ids  []int32
}

func (f *itemFeatures) width(attrDim int) int { return len(f.cats)*attrDim + 2*len(f.numNames) }

// newItemFeatures extracts the features of items [0, numItems) from attrs (nil means none).
// Numeric columns are standardised with the mean and standard deviation of their known values.
func newItemFeatures(attrs *dataset.Attributes, numItems int) (*itemFeatures, error) {
	f := &itemFeatures{}
	if attrs == nil {
		return f, nil
	}
	for _, c := range attrs.Categorical {
		cf := catFeature{name: c.Name, dict: c.Dict, off: make([]int32, numItems+1)}
		if c.Dict != nil {
			cf.card = c.Dict.Len()
		}
		for i := 0; i < numItems; i++ {
			if i < len(c.Values) {
				for _, v := range c.Values[i] {
					if v < 0 {
						return nil, fmt.Errorf("twotower: item attribute %q: item %d has negative value ID %d", c.Name, i, v)
					}
					cf.ids = append(cf.ids, v)
					cf.card = max(cf.card, int(v)+1)
				}
			}
			cf.off[i+1] = int32(len(cf.ids))
		}
		if cf.card == 0 {
			continue // a column with no values carries no information
		}
		f.cats = append(f.cats, cf)
	}
	nn := len(attrs.Numeric)
	if nn == 0 {
		return f, nil
	}
	f.numeric = make([]float32, numItems*2*nn)
	for j, c := range attrs.Numeric {
		var s, ss float64
		var cnt int
		for i := 0; i < numItems && i < len(c.Values); i++ {
			v := float64(c.Values[i])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			s += v
			ss += v * v
			cnt++
		}
		mean, std := 0.0, 1.0
		if cnt > 0 {
			mean = s / float64(cnt)
			if v := ss/float64(cnt) - mean*mean; v > 1e-12 {
				std = math.Sqrt(v)
			}
		}
		f.numNames = append(f.numNames, c.Name)
		f.means = append(f.means, float32(mean))
		f.stds = append(f.stds, float32(std))
		for i := 0; i < numItems; i++ {
			row := f.numeric[i*2*nn:]
			v := math.NaN()
			if i < len(c.Values) {
				v = float64(c.Values[i])
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				row[2*j], row[2*j+1] = 0, 1
				continue
			}
			row[2*j] = float32((v - mean) / std)
		}
	}
	return f, nil
}

// Context features of a request time (UTC).
func hourOfDay(t int64) int32 { return int32(((t/3600)%24 + 24) % 24) }

// dayOfWeek returns 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
func dayOfWeek(t int64) int32 {
	d := t / 86400
	if t < 0 && t%86400 != 0 {
		d--
	}
	return int32(((d+3)%7 + 7) % 7)
}

// userBucket hashes a user ID into one of n buckets (splitmix64), so that users never seen in
// training still get an embedding row, shared with others. Unknown users (-1) get none.
func userBucket(u int32, n int) int32 {
	if u < 0 || n <= 0 {
		return -1
	}
	return int32(mix64(uint64(u)) % uint64(n))
}

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
