package campaign

import "io/fs"

// Check loads the campaign files under dir and passes a valid Set through
// each vet, as the server would before it goes live. It returns every
// problem, sorted by file and line, and the Set, which is nil when any of
// them is an error.
func Check(dir string, templates fs.FS, vet ...Vet) (*Set, []Problem) {
	set, ps := Load(dir, templates)
	if set == nil {
		return nil, ps
	}
	for _, v := range vet {
		ps = append(ps, v(set)...)
	}
	sortProblems(ps)
	if HasErrors(ps) {
		return nil, ps
	}
	return set, ps
}
