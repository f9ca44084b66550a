//! The rollout controller's events: the start, the notification pump, gate judgements and
//! deadlines, the operator's response and the end of the rollout window.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyEvent {
    RolloutStart,
    /// The notification pump may notify the next device(s).
    Notify,
    /// Stage `stage`'s gate is judged (stale unless it is the stage's one live judgement).
    StageJudge {
        stage: u32,
    },
    /// Stage `stage`'s `open_at` time has come: it opens (with any stage before it not yet open).
    StageOpen {
        stage: u32,
    },
    /// Stage `stage`'s `max_wait` for enough reports ends.
    StageMaxWait {
        stage: u32,
    },
    ShadowJudge {
        shadow: u32,
    },
    ShadowMaxWait {
        shadow: u32,
    },
    Operator(OperatorAct),
    /// The rollout window (`window_end`) closes.
    WindowClose,
}

/// What the operator responds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorAct {
    /// A pause: the operator resumes, rolls back or holds (`operator.on_pause`).
    OnPause,
    /// A passed stage with `approval = "operator"`: the operator approves the next stage.
    Approve { stage: u32 },
}
