package dataset

import (
	"fmt"
	"strings"
)

// loadML1M reads MovieLens 1M (Latin-1, "::"-separated): ratings.dat, and when present
// movies.dat (title with the year, "|"-separated genres) and users.dat.
func (b *builder) loadML1M() error {
	file := b.path("ratings.dat")
	data, err := readLatin1(file)
	if err != nil {
		return fmt.Errorf("load ml-1m: %w", err)
	}
	if err := b.ratingLines(file, data, "::", "::-separated fields (UserID::MovieID::Rating::Timestamp)"); err != nil {
		return err
	}
	if p := b.path("movies.dat"); exists(p) {
		a, genres, year := b.movieAttrs()
		err := b.latin1Lines(p, "load ml-1m movies", func(n int, l string) error {
			f := strings.Split(l, "::")
			if len(f) != 3 {
				return b.bad(p, n, "", fmt.Errorf("want 3 ::-separated fields (MovieID::Title::Genres), got %d", len(f)))
			}
			b.addMovie(a, genres, year, f[0], f[1], f[2])
			return nil
		})
		if err != nil {
			return err
		}
	}
	if p := b.path("users.dat"); exists(p) {
		return b.loadSepUsers(p, "::", []string{"gender", "age", "occupation", "zip"}, map[string]bool{"age": true})
	}
	return nil
}
