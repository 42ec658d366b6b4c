package coat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cascade-rec/cascade/dataset"
)

// Synthetic sizes a generated data set in Coat's layout, for tests and for trying the model
// without the real data: true ratings from a rank-2 model, train ratings self-selected (a
// rating's chance of being observed grows by Selection per star), test ratings uniformly random.
type Synthetic struct {
	Users, Items int
	TrainPerUser float64 // expected train ratings per user
	TestPerUser  int     // test ratings per user, drawn uniformly without replacement
	Selection    float64 // log-odds of observation per star above 3 (0: missing at random)
	Seed         uint64
}

// WriteSynthetic writes train.ascii, test.ascii and propensities.ascii (the true observation
// probabilities of every cell) into dir.
func WriteSynthetic(dir string, s Synthetic) error {
	if s.Users < 1 || s.Items < 2 || s.TestPerUser < 1 || s.TestPerUser > s.Items || !(s.TrainPerUser > 0 && s.TrainPerUser < float64(s.Items)) {
		return fmt.Errorf("synthetic coat: bad size %+v", s)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0xC0A7))
	const rank = 2
	uf, itf := randMatrix(rng, s.Users, rank), randMatrix(rng, s.Items, rank)
	truth := matrix(s.Users, s.Items)
	odds := matrix(s.Users, s.Items)
	var sumOdds float64
	for u := range truth {
		for i := range truth[u] {
			r := 3 + 1.2*(uf[u][0]*itf[i][0]+uf[u][1]*itf[i][1]) + 0.5*rng.NormFloat64()
			truth[u][i] = min(5, max(1, math.Round(r)))
			odds[u][i] = math.Exp(s.Selection * (truth[u][i] - 3))
			sumOdds += odds[u][i]
		}
	}
	// Scale the odds so that the expected number of train ratings is TrainPerUser per user.
	scale := s.TrainPerUser * float64(s.Users) / sumOdds
	train, test, prop := matrix(s.Users, s.Items), matrix(s.Users, s.Items), matrix(s.Users, s.Items)
	for u := range truth {
		for i := range truth[u] {
			prop[u][i] = min(1, scale*odds[u][i])
			if rng.Float64() < prop[u][i] {
				train[u][i] = truth[u][i]
			}
		}
		for _, i := range rng.Perm(s.Items)[:s.TestPerUser] {
			test[u][i] = truth[u][i]
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		m    [][]float64
	}{{dataset.CoatTrainFile, train}, {dataset.CoatTestFile, test}, {dataset.CoatPropensitiesFile, prop}} {
		if err := writeMatrix(filepath.Join(dir, f.name), f.m); err != nil {
			return err
		}
	}
	return nil
}

func randMatrix(rng *rand.Rand, rows, cols int) [][]float64 {
	m := matrix(rows, cols)
	for _, row := range m {
		for j := range row {
			row[j] = rng.NormFloat64()
		}
	}
	return m
}

// writeMatrix writes m as ReadMatrix reads it (CRLF, as Coat's own files).
func writeMatrix(path string, m [][]float64) error {
	var b strings.Builder
	for _, row := range m {
		for j, v := range row {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteString("\r\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
