//! Pure service planner (work in progress).
