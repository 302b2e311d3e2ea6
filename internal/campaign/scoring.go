package campaign

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nurture/nurture/internal/scoring"
)

// ScoringFile is the file at the top of the campaigns folder that says how
// leads are scored and handed to sales.
const ScoringFile = "scoring.yaml"

// loadScoring reads dir/scoring.yaml into set. A folder without one has
// no scoring (set.Scoring stays nil); a file with errors makes the whole
// load invalid, as a broken step does, so the last good version stays live.
func loadScoring(dir string, set *Set, ps *problems) {
	path := filepath.Join(dir, ScoringFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		ps.errorf(path, 1, "cannot read: %v", readError(err))
		return
	}
	rules, list := scoring.Parse(path, data)
	*ps = append(*ps, list...)
	if rules != nil {
		set.Scoring, set.scoringVersion = rules, version(data)
	}
}

// ScoringRules returns the scoring rules of the current Set, nil when the
// campaigns folder has no scoring.yaml. Live reloads it with the rest of
// the files, so a broken edit leaves the last good rules in force.
func (l *Live) ScoringRules() *scoring.Rules { return l.Set().Scoring }
