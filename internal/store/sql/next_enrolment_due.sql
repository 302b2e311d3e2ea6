SELECT min(due_at) FROM enrolments WHERE state = 'active'
