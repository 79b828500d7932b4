-- The agent's work (issue 14), projected from work.commands.v1 by the work worker.
-- work_log: the id of every work event applied, so a retried POST (same id) applies once.
CREATE TABLE IF NOT EXISTS work_log (
    event_id     uuid PRIMARY KEY,
    type         text NOT NULL
);

-- Notes read into the timeline beside the interactions: the same column names, so the
-- timeline's filters and cursor apply to both.
CREATE TABLE IF NOT EXISTS work_notes (
    note_id        uuid PRIMARY KEY,
    customer_id    uuid NOT NULL,
    seq            bigint NOT NULL,         -- the note's offset in work.commands.v1
    channel        text NOT NULL DEFAULT 'note',
    occurred_at    timestamptz NOT NULL,
    agent_id       text NOT NULL,
    body           text NOT NULL,
    outcome        text,
    interaction_id uuid
);
CREATE INDEX IF NOT EXISTS work_notes_by_customer ON work_notes (customer_id, occurred_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS work_notes_by_interaction ON work_notes (interaction_id, occurred_at DESC)
    WHERE interaction_id IS NOT NULL AND outcome IS NOT NULL;

CREATE TABLE IF NOT EXISTS customer_profiles (
    customer_id  uuid PRIMARY KEY,
    name         text,
    birth_date   date,
    birth_mmdd   smallint GENERATED ALWAYS AS
                 ((extract(month FROM birth_date) * 100 + extract(day FROM birth_date))::smallint) STORED,
    company      text,
    tags         text[] NOT NULL DEFAULT '{}',
    owner        text,
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_profiles_owner ON customer_profiles (owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS customer_profiles_birthday ON customer_profiles (birth_mmdd, customer_id)
    WHERE birth_mmdd IS NOT NULL;
CREATE INDEX IF NOT EXISTS customer_profiles_company ON customer_profiles (lower(company)) WHERE company IS NOT NULL;
CREATE INDEX IF NOT EXISTS customer_profiles_tags ON customer_profiles USING gin (tags);

CREATE TABLE IF NOT EXISTS work_requests (
    request_id        uuid PRIMARY KEY,
    customer_id       uuid NOT NULL,
    subject           text NOT NULL,
    priority          text NOT NULL,
    status            text NOT NULL,
    assignee          text NOT NULL,
    opened_by         text NOT NULL,
    channel           text,
    thread            text,
    thread_since      timestamptz,       -- replies later than this in the thread attach to it
    interaction_id    uuid,
    opened_at         timestamptz NOT NULL,
    due_at            timestamptz NOT NULL,
    first_response_at timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS work_requests_customer ON work_requests (customer_id, opened_at);
CREATE INDEX IF NOT EXISTS work_requests_assignee ON work_requests (assignee, status, opened_at);
CREATE INDEX IF NOT EXISTS work_requests_opened ON work_requests (opened_at);
CREATE INDEX IF NOT EXISTS work_requests_resolved ON work_requests (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS work_requests_due ON work_requests (due_at);
CREATE INDEX IF NOT EXISTS work_requests_thread ON work_requests (thread) WHERE thread IS NOT NULL;

-- Inbound interactions that replied to a request's thread (written by the card + timeline
-- projection as it stores them), and the status history of each request.
CREATE TABLE IF NOT EXISTS request_interactions (
    request_id     uuid NOT NULL,
    interaction_id uuid NOT NULL,
    occurred_at    timestamptz NOT NULL,
    PRIMARY KEY (request_id, interaction_id)
);
CREATE TABLE IF NOT EXISTS request_changes (
    change_id   uuid PRIMARY KEY,
    request_id  uuid NOT NULL,
    status      text NOT NULL,
    comment     text,
    by_employee text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS request_changes_request ON request_changes (request_id, at);

CREATE TABLE IF NOT EXISTS work_tasks (
    task_id     uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    title       text NOT NULL,
    due_at      timestamptz NOT NULL,
    assignee    text NOT NULL,
    status      text NOT NULL DEFAULT 'open',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    done_at     timestamptz,
    done_by     text
);
CREATE INDEX IF NOT EXISTS work_tasks_assignee ON work_tasks (assignee, status, due_at);

CREATE TABLE IF NOT EXISTS work_handovers (
    handover_id   uuid PRIMARY KEY,
    from_employee text NOT NULL,
    to_employee   text NOT NULL,
    by_employee   text NOT NULL,
    at            timestamptz NOT NULL,
    customers     integer NOT NULL,
    requests      integer NOT NULL,
    tasks         integer NOT NULL
);

-- Report projections, kept by the card + timeline projection in the transaction that stores
-- the interactions: the last contact per customer (dormant) and counts per day, channel and
-- agent (activity), so reports never scan the timeline.
-- ``owner`` is the profile's, copied here by the work projection so that one owner's dormant
-- customers are an index range too (a join through the profiles sorted thousands of rows).
CREATE TABLE IF NOT EXISTS customer_contacts (
    customer_id     uuid PRIMARY KEY,
    last_contact_at timestamptz,
    owner           text
);
CREATE INDEX IF NOT EXISTS customer_contacts_last ON customer_contacts (last_contact_at, customer_id);
CREATE INDEX IF NOT EXISTS customer_contacts_owner ON customer_contacts (owner, last_contact_at, customer_id)
    WHERE owner IS NOT NULL;

CREATE TABLE IF NOT EXISTS activity_daily (
    day            date NOT NULL,
    channel        text NOT NULL,
    agent_id       text NOT NULL,     -- '' when the interaction names no agent
    interactions   bigint NOT NULL,
    inbound        bigint NOT NULL,
    outbound       bigint NOT NULL,
    calls_answered bigint NOT NULL,
    calls_missed   bigint NOT NULL,
    talk_time_s    numeric NOT NULL,
    PRIMARY KEY (day, channel, agent_id)
);
