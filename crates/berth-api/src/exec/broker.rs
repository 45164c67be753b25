//! The live side of ECS Exec sessions, in memory only: each pending session's client token,
//! the ticket its agent gets, and the rendezvous of the two streams. The durable record of a
//! session lives in the control plane (`berth_control::exec_sessions`).
//!
//! Invariant: a client token attaches once; a ticket is handed to its agent once and the
//! agent's stream attaches once; a session nobody attached to is expired, never revived. A
//! restart forgets every pending session (its tokens were never written anywhere).

use berth_exec::ticket::ExecTicket;
use berth_types::ContainerInstanceId;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, Notify};

/// An upgraded connection carrying frames.
pub type SessionStream = TokioIo<hyper::upgrade::Upgraded>;

struct Pending {
    instance: ContainerInstanceId,
    ticket: ExecTicket,
    client_token: String,
    client_attached: bool,
    handed_to_agent: bool,
    /// Taken by the agent's attach, which sends its stream through it.
    agent_sender: Option<oneshot::Sender<SessionStream>>,
    /// Taken by the client's attach, whose relay waits on it for the agent.
    agent_receiver: Option<oneshot::Receiver<SessionStream>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachRefusal {
    /// No such pending session (never, expired, or already over).
    Unknown,
    /// The token is wrong or has been used.
    Unauthorized,
}

#[derive(Default)]
pub struct ExecBroker {
    sessions: Mutex<HashMap<String, Pending>>,
    wake: Mutex<HashMap<ContainerInstanceId, Arc<Notify>>>,
}

/// Compares secrets without stopping at the first differing byte.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

impl ExecBroker {
    fn notify_of(&self, instance: &ContainerInstanceId) -> Arc<Notify> {
        Arc::clone(self.wake.lock().entry(instance.clone()).or_default())
    }

    /// Makes a recorded session attachable and tells the instance's agent about it.
    pub fn offer(&self, instance: ContainerInstanceId, ticket: ExecTicket, client_token: String) {
        let (agent_sender, agent_receiver) = oneshot::channel();
        let pending = Pending {
            instance: instance.clone(),
            ticket: ticket.clone(),
            client_token,
            client_attached: false,
            handed_to_agent: false,
            agent_sender: Some(agent_sender),
            agent_receiver: Some(agent_receiver),
        };
        self.sessions.lock().insert(ticket.session_id, pending);
        self.notify_of(&instance).notify_waiters();
    }

    fn take_tickets(&self, instance: &ContainerInstanceId) -> Vec<ExecTicket> {
        let mut sessions = self.sessions.lock();
        let mut tickets: Vec<ExecTicket> = sessions
            .values_mut()
            .filter(|pending| &pending.instance == instance && !pending.handed_to_agent)
            .map(|pending| {
                pending.handed_to_agent = true;
                pending.ticket.clone()
            })
            .collect();
        tickets.sort_by(|left, right| left.session_id.cmp(&right.session_id));
        tickets
    }

    /// The instance's tickets not handed out yet, waiting up to `wait` for one to appear.
    pub async fn wait_for_tickets(&self, instance: &ContainerInstanceId, wait: Duration) -> Vec<ExecTicket> {
        let notify = self.notify_of(instance);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an offer between the look and the wait wakes us.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let tickets = self.take_tickets(instance);
            if !tickets.is_empty() {
                return tickets;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return vec![];
            }
        }
    }

    /// The client's attach: checks and spends its token; the relay then waits on the receiver
    /// for the agent's stream.
    pub fn claim_client(&self, id: &str, token: &str) -> Result<oneshot::Receiver<SessionStream>, AttachRefusal> {
        let mut sessions = self.sessions.lock();
        let pending = sessions.get_mut(id).ok_or(AttachRefusal::Unknown)?;
        if pending.client_attached || !same_secret(token, &pending.client_token) {
            return Err(AttachRefusal::Unauthorized);
        }
        pending.client_attached = true;
        pending.agent_receiver.take().ok_or(AttachRefusal::Unauthorized)
    }

    /// The agent's attach, only for a session of its own instance.
    pub fn claim_agent(
        &self,
        id: &str,
        instance: &ContainerInstanceId,
        token: &str,
    ) -> Result<oneshot::Sender<SessionStream>, AttachRefusal> {
        let mut sessions = self.sessions.lock();
        let pending =
            sessions.get_mut(id).filter(|pending| &pending.instance == instance).ok_or(AttachRefusal::Unknown)?;
        if !same_secret(token, &pending.ticket.agent_token) {
            return Err(AttachRefusal::Unauthorized);
        }
        pending.agent_sender.take().ok_or(AttachRefusal::Unauthorized)
    }

    /// Forgets a session nobody attached to; whether it was still waiting for its client.
    pub fn expire(&self, id: &str) -> bool {
        let mut sessions = self.sessions.lock();
        match sessions.get(id) {
            Some(pending) if !pending.client_attached => {
                sessions.remove(id);
                true
            }
            _ => false,
        }
    }

    /// Forgets a session whose relay has ended.
    pub fn finish(&self, id: &str) {
        self.sessions.lock().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str) -> ExecTicket {
        ExecTicket {
            session_id: id.to_string(),
            task_arn: "arn".to_string(),
            container_name: "web".to_string(),
            container_runtime_id: "docker-id".to_string(),
            command: vec!["true".to_string()],
            interactive: false,
            agent_token: "agent-secret".to_string(),
        }
    }

    #[tokio::test]
    async fn tokens_attach_once_and_tickets_go_to_their_own_agent_once() {
        let broker = ExecBroker::default();
        let (mine, other) = (ContainerInstanceId::generate(), ContainerInstanceId::generate());
        broker.offer(mine.clone(), ticket("s1"), "client-secret".to_string());
        assert!(broker.wait_for_tickets(&other, Duration::ZERO).await.is_empty());
        assert_eq!(broker.wait_for_tickets(&mine, Duration::ZERO).await, vec![ticket("s1")]);
        assert!(broker.wait_for_tickets(&mine, Duration::ZERO).await.is_empty(), "handed out once");
        assert_eq!(broker.claim_agent("s1", &other, "agent-secret").unwrap_err(), AttachRefusal::Unknown);
        assert_eq!(broker.claim_agent("s1", &mine, "wrong").unwrap_err(), AttachRefusal::Unauthorized);
        assert!(broker.claim_agent("s1", &mine, "agent-secret").is_ok());
        assert_eq!(broker.claim_client("s1", "client-secreT").unwrap_err(), AttachRefusal::Unauthorized);
        assert!(broker.claim_client("s1", "client-secret").is_ok());
        assert_eq!(broker.claim_client("s1", "client-secret").unwrap_err(), AttachRefusal::Unauthorized);
        assert!(!broker.expire("s1"), "an attached session does not expire");
        broker.finish("s1");
        assert_eq!(broker.claim_client("s1", "client-secret").unwrap_err(), AttachRefusal::Unknown);
    }

    #[tokio::test]
    async fn an_unattached_session_expires_and_a_waiting_agent_is_woken() {
        let broker = Arc::new(ExecBroker::default());
        let instance = ContainerInstanceId::generate();
        let waiter = {
            let broker = Arc::clone(&broker);
            let instance = instance.clone();
            tokio::spawn(async move { broker.wait_for_tickets(&instance, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        broker.offer(instance.clone(), ticket("s2"), "secret".to_string());
        assert_eq!(waiter.await.unwrap(), vec![ticket("s2")]);
        assert!(broker.expire("s2"));
        assert_eq!(broker.claim_client("s2", "secret").unwrap_err(), AttachRefusal::Unknown);
    }
}
