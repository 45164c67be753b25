//! A service pass's working view of its cluster: the maintained placement views plus what the
//! pass itself has booked so far, so that one launch never lands on capacity an earlier launch
//! of the same pass already took.
//!
//! Cloning every view up front cost milliseconds per pass at thousands of instances, while a
//! typical pass places once and books a handful of instances. Bookings are therefore kept as
//! copies of just the booked views, and the whole slice is copied only when a pass places a
//! second time after booking (launches of two task definitions in one pass).
//!
//! Invariant: `view(i)` and `all()[i]` are the maintained view of instance `i` less every
//! booking made on it through `book`.

use berth_scheduler::InstanceView;
use berth_types::Resources;
use std::collections::HashMap;

pub(crate) struct BookedViews<'a> {
    maintained: &'a [InstanceView],
    /// Copies of the views booked since the last `all()`.
    booked: HashMap<usize, InstanceView>,
    /// Every view, once a placement needed them all after a booking.
    copied: Option<Vec<InstanceView>>,
}

impl<'a> BookedViews<'a> {
    pub fn new(maintained: &'a [InstanceView]) -> Self {
        BookedViews { maintained, booked: HashMap::new(), copied: None }
    }

    /// One instance's view with this pass's bookings.
    pub fn view(&self, index: usize) -> &InstanceView {
        match &self.copied {
            Some(copied) => &copied[index],
            None => self.booked.get(&index).unwrap_or(&self.maintained[index]),
        }
    }

    /// Every view with this pass's bookings.
    pub fn all(&mut self) -> &[InstanceView] {
        if self.copied.is_none() && self.booked.is_empty() {
            return self.maintained;
        }
        let copied = self.copied.get_or_insert_with(|| self.maintained.to_vec());
        for (index, view) in self.booked.drain() {
            copied[index] = view;
        }
        copied
    }

    /// Books one task of `group` needing `demand` on the instance.
    pub fn book(&mut self, index: usize, demand: &Resources, group: &str) {
        let view = match &mut self.copied {
            Some(copied) => &mut copied[index],
            None => self.booked.entry(index).or_insert_with(|| self.maintained[index].clone()),
        };
        view.remaining.cpu -= demand.cpu;
        view.remaining.memory -= demand.memory;
        view.remaining.ports_tcp.extend(demand.ports_tcp.iter().copied());
        view.remaining.ports_udp.extend(demand.ports_udp.iter().copied());
        *view.task_groups.entry(group.to_string()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ContainerInstanceStatus;

    fn view(id: &str, memory: i64) -> InstanceView {
        InstanceView {
            id: id.into(),
            status: ContainerInstanceStatus::Active,
            agent_connected: true,
            remaining: Resources { cpu: 1024, memory, ..Default::default() },
            attributes: Default::default(),
            ec2_instance_id: id.into(),
            agent_version: None,
            registered_at_epoch_ms: 0,
            running_tasks_count: 0,
            task_groups: Default::default(),
            capacity_provider: None,
        }
    }

    #[test]
    fn bookings_show_in_single_views_and_in_the_whole_slice_alike() {
        let maintained = vec![view("a", 100), view("b", 100), view("c", 100)];
        let demand = Resources { cpu: 10, memory: 30, ..Default::default() };
        let mut booked = BookedViews::new(&maintained);
        assert!(std::ptr::eq(booked.all(), maintained.as_slice()), "nothing booked: no copy");
        booked.book(1, &demand, "service:web");
        assert_eq!(booked.view(1).remaining.memory, 70);
        assert_eq!(booked.view(0).remaining.memory, 100);
        assert_eq!(booked.all()[1].remaining.memory, 70);
        // Once copied, later bookings land in the copy.
        booked.book(1, &demand, "service:web");
        booked.book(2, &demand, "service:web");
        let all = booked.all();
        assert_eq!(all.iter().map(|view| view.remaining.memory).collect::<Vec<_>>(), vec![100, 40, 70]);
        assert_eq!(all[1].task_groups["service:web"], 2);
        assert_eq!(maintained[1].remaining.memory, 100, "the maintained views are never touched");
    }
}
