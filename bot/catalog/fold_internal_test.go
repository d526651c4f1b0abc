package catalog

import (
	"testing"

	"pgregory.net/rapid"
)

// naiveOSA is the textbook optimal-string-alignment distance.
func naiveOSA(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// The banded, early-exiting distance agrees with the textbook one wherever
// it matters (within k), for whole words and for prefixes.
func TestEditDistanceMatchesNaive(t *testing.T) {
	word := rapid.StringOfN(rapid.RuneFrom([]rune("abcde")), 0, 12, -1)
	rapid.Check(t, func(t *rapid.T) {
		a, b := word.Draw(t, "a"), word.Draw(t, "b")
		k := rapid.IntRange(0, 3).Draw(t, "k")
		full, prefix := editDistance([]byte(a), b, k)
		if want := min(naiveOSA(a, b), k+1); full != want {
			t.Fatalf("full(%q, %q, k=%d) = %d, want %d", a, b, k, full, want)
		}
		wantPre := k + 1
		for j := 0; j <= len(b); j++ {
			wantPre = min(wantPre, naiveOSA(a, b[:j]))
		}
		if prefix != wantPre {
			t.Fatalf("prefix(%q, %q, k=%d) = %d, want %d", a, b, k, prefix, wantPre)
		}
	})
}

func TestEditDistanceExamples(t *testing.T) {
	for _, tc := range []struct {
		a, b         string
		k, full, pre int
	}{
		{"amazn", "amazon", 1, 1, 1},
		{"netflx", "netflix", 1, 1, 1},
		{"netlfix", "netflix", 1, 1, 1},
		{"playstaton", "playstation", 2, 1, 1},
		{"plystat", "playstation", 1, 2, 1},
		{"steam", "stream", 1, 1, 1},
		{"xbox", "amazon", 1, 2, 2},
	} {
		full, pre := editDistance([]byte(tc.a), tc.b, tc.k)
		if full != tc.full || pre != tc.pre {
			t.Errorf("editDistance(%q, %q, %d) = %d, %d; want %d, %d", tc.a, tc.b, tc.k, full, pre, tc.full, tc.pre)
		}
	}
}
