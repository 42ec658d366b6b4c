package dataset

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// loadML100K reads MovieLens 100K: u.data (tab: user, item, rating, timestamp), and when present
// u.item (title, release year, 19 genre flags) and u.user.
func (b *builder) loadML100K() error {
	file := b.path("u.data")
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("load ml-100k: %w", err)
	}
	if err := b.ratingLines(file, data, "\t", "tab-separated fields (user item rating timestamp)"); err != nil {
		return err
	}
	if p := b.path("u.item"); exists(p) {
		if err := b.loadML100KItems(p); err != nil {
			return err
		}
	}
	if p := b.path("u.user"); exists(p) {
		return b.loadSepUsers(p, "|", []string{"age", "gender", "occupation", "zip"}, map[string]bool{"age": true})
	}
	return nil
}

// ml100kGenres are the 19 genre flag columns of u.item, in order (from u.genre).
var ml100kGenres = []string{"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
	"Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
	"Thriller", "War", "Western"}

func (b *builder) loadML100KItems(file string) error {
	a, genres, year := b.movieAttrs()
	return b.latin1Lines(file, "load ml-100k items", func(n int, l string) error {
		f := strings.Split(l, "|")
		if len(f) != 5+len(ml100kGenres) {
			return b.bad(file, n, "", fmt.Errorf("want %d |-separated fields, got %d", 5+len(ml100kGenres), len(f)))
		}
		id := b.items.Add(f[0])
		b.titles[id] = f[1]
		for g, flag := range f[5:] {
			switch flag {
			case "1":
				a.add(genres, id, ml100kGenres[g])
			case "0":
			default:
				return b.bad(file, n, ml100kGenres[g], fmt.Errorf("genre flag %q is not 0 or 1", flag))
			}
		}
		if d := f[2]; d != "" {
			t, err := time.Parse("2-Jan-2006", d)
			if err != nil {
				return b.bad(file, n, "release_date", err)
			}
			a.set(year, id, float32(t.Year()))
		}
		return nil
	})
}
