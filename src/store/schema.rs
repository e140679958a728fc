//! The one schema for both backends (migrations/sqlite and migrations/postgres define
//! the same tables with the same names and types).

diesel::table! {
    agency_levels (id) {
        id -> Text,
        name -> Text,
    }
}

diesel::table! {
    agencies (code) {
        code -> Text,
        name -> Text,
        short_name -> Nullable<Text>,
        level -> Text,
        parent_code -> Nullable<Text>,
        address -> Nullable<Text>,
        phone -> Nullable<Text>,
        active -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    procedures (code) {
        code -> Text,
        current_version -> Integer,
        active -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    procedure_versions (procedure_code, version) {
        procedure_code -> Text,
        version -> Integer,
        name -> Text,
        field -> Text,
        competent_level -> Nullable<Text>,
        competent_agency -> Nullable<Text>,
        time_amount -> Integer,
        time_unit -> Text,
        time_cutoff -> Nullable<Text>,
        fee -> BigInt,
        online_level -> Text,
        portal_code -> Nullable<Text>,
        inter_agency -> Bool,
        result_document -> Nullable<Text>,
        definition -> Text,
        content_hash -> Text,
        valid_from -> Timestamp,
        valid_to -> Nullable<Timestamp>,
    }
}

// The daily rollup. Only its key and the columns written through diesel are declared
// here: its count columns, one per `core::indicators::Column` (more than diesel's 32),
// are read and written by SQL built from `Column::ALL` (`store::reports`); a test checks
// that the table has exactly those columns on both backends.
diesel::table! {
    stats_daily (agency_code, procedure_code, day) {
        agency_code -> Text,
        procedure_code -> Text,
        day -> Date,
        became_due -> BigInt,
        cleared_due -> BigInt,
    }
}

diesel::joinable!(procedure_versions -> procedures (procedure_code));

diesel::table! {
    users (username) {
        username -> Text,
        full_name -> Text,
        role -> Text,
        agency_code -> Text,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        token_version -> Integer,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    throttle (scope, key) {
        scope -> Text,
        key -> Text,
        window_start -> Timestamp,
        failures -> Integer,
        last_failure_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    code_sequences (agency_code, scope) {
        agency_code -> Text,
        scope -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    dossiers (code) {
        code -> Text,
        procedure_code -> Text,
        procedure_version -> Integer,
        rule_set -> Text,
        receiving_agency -> Text,
        competent_agency -> Nullable<Text>,
        current_agency -> Text,
        channel -> Text,
        status -> Text,
        applicant_name -> Text,
        applicant_id_kind -> Text,
        applicant_id_number -> Text,
        applicant_phone -> Nullable<Text>,
        applicant_email -> Nullable<Text>,
        applicant_address -> Nullable<Text>,
        applicant_search -> Text,
        proxy -> Nullable<Text>,
        note -> Nullable<Text>,
        pin_hash -> Text,
        received_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        time_amount -> Integer,
        time_unit -> Text,
        time_cutoff -> Nullable<Text>,
        reappointed_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        result_ready -> Bool,
        received_by -> Text,
        book_volume -> Nullable<Integer>,
        book_line -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dossier_progress (dossier_code) {
        dossier_code -> Text,
        pending_handover -> Nullable<Text>,
        assignee -> Nullable<Text>,
        clock_stopped_at -> Nullable<Timestamp>,
        supplement_requests -> Integer,
        delayed -> Bool,
        late_by_rule -> Bool,
        current_step -> Nullable<Integer>,
        rated -> Bool,
        digitised -> Bool,
        reused -> Bool,
        results -> Integer,
        results_electronic -> Integer,
        decision -> Nullable<Text>,
        fee_bearing -> Bool,
        paid_online -> Bool,
        rating -> Nullable<Text>,
        rated_at -> Nullable<Timestamp>,
        handling_minutes -> Nullable<BigInt>,
        stopped_minutes -> BigInt,
        first_due_at -> Nullable<Timestamp>,
        supplement_request_by -> Nullable<Timestamp>,
        yields_document -> Bool,
        submitted_at -> Nullable<Timestamp>,
        acknowledge_by -> Nullable<Timestamp>,
        correction_rounds -> Integer,
        proposed -> Bool,
    }
}

diesel::table! {
    intake_keys (account, key) {
        account -> Text,
        key -> Text,
        request_hash -> Text,
        dossier_code -> Text,
        receipt -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deadline_acts (dossier_code, seq) {
        dossier_code -> Text,
        seq -> Integer,
        kind -> Text,
        at -> Timestamp,
        agency_code -> Text,
        due_at -> Nullable<Timestamp>,
        late -> Bool,
    }
}

diesel::table! {
    handovers (dossier_code, seq) {
        dossier_code -> Text,
        seq -> Integer,
        at -> Timestamp,
        from_agency -> Text,
        to_agency -> Text,
        electronic -> Bool,
        outcome -> Nullable<Text>,
        transfer_due_at -> Nullable<Timestamp>,
        transfer_outcome -> Nullable<Text>,
    }
}

diesel::table! {
    blobs (sha256) {
        sha256 -> Text,
        size -> BigInt,
        media_type -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        kind -> Text,
        owner_id_number -> Text,
        owner_name -> Text,
        name -> Text,
        number -> Nullable<Text>,
        issuing_agency -> Nullable<Text>,
        issued_on -> Date,
        valid_until -> Nullable<Date>,
        dossier_code -> Nullable<Text>,
        procedure_code -> Nullable<Text>,
        sha256 -> Nullable<Text>,
        retention -> Text,
        retain_until -> Nullable<Date>,
        source -> Text,
        source_key -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    dossier_files (id) {
        id -> Text,
        dossier_code -> Text,
        paper_position -> Nullable<Integer>,
        document_id -> Nullable<Text>,
        file_name -> Text,
        sha256 -> Text,
        size -> BigInt,
        media_type -> Text,
        uploaded_at -> Timestamp,
        uploaded_by -> Text,
    }
}

diesel::table! {
    dossier_steps (dossier_code, no) {
        dossier_code -> Text,
        no -> Integer,
        name -> Text,
        agency_code -> Text,
        role -> Text,
        share -> Integer,
        due_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    dossier_agencies (agency_code, dossier_code) {
        agency_code -> Text,
        dossier_code -> Text,
        received_at -> Nullable<Timestamp>,
        applicant_search -> Text,
        applicant_id_number -> Text,
    }
}

diesel::table! {
    dossier_papers (dossier_code, position) {
        dossier_code -> Text,
        position -> Integer,
        name -> Text,
        kind -> Text,
        count -> Integer,
        reuse_document_id -> Nullable<Text>,
    }
}

diesel::table! {
    dossier_events (dossier_code, seq) {
        dossier_code -> Text,
        seq -> Integer,
        kind -> Text,
        at -> Timestamp,
        actor -> Text,
        agency_code -> Text,
        status_after -> Text,
        payload -> Text,
    }
}

diesel::table! {
    intake_outcomes (id) {
        id -> Text,
        kind -> Text,
        agency_code -> Text,
        procedure_code -> Nullable<Text>,
        channel -> Text,
        applicant_name -> Text,
        applicant_id_number -> Nullable<Text>,
        reason -> Nullable<Text>,
        items -> Text,
        at -> Timestamp,
        actor -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        role -> Text,
        address -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
        stream -> Text,
        stream_seq -> BigInt,
        seal_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_streams (stream) {
        stream -> Text,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    audit_checkpoints (seq) {
        seq -> BigInt,
        at -> Timestamp,
        last_seal -> BigInt,
        records -> BigInt,
        chain_hash -> Text,
        prev_mac -> Text,
        mac -> Text,
    }
}

diesel::joinable!(dossier_papers -> dossiers (dossier_code));
diesel::joinable!(dossier_progress -> dossiers (dossier_code));
diesel::joinable!(dossier_events -> dossiers (dossier_code));
diesel::joinable!(dossier_steps -> dossiers (dossier_code));
diesel::joinable!(dossier_files -> dossiers (dossier_code));
diesel::joinable!(handovers -> dossiers (dossier_code));
diesel::joinable!(deadline_acts -> dossiers (dossier_code));
diesel::joinable!(intake_keys -> dossiers (dossier_code));
diesel::joinable!(dossier_agencies -> dossiers (dossier_code));

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        username -> Text,
        token_version -> Integer,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::joinable!(web_sessions -> users (username));

diesel::table! {
    /// The applicant's folded name from each of its words on (`nguyen thi hong nhung`,
    /// `thi hong nhung`, `hong nhung`, `nhung`): the staff search's name index.
    dossier_name_keys (key, dossier_code, agency_code) {
        key -> Text,
        dossier_code -> Text,
        agency_code -> Text,
        received_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    dossier_name_keys,
    web_sessions,
    users,
    throttle,
    code_sequences,
    dossiers,
    dossier_progress,
    dossier_steps,
    dossier_agencies,
    blobs,
    documents,
    dossier_files,
    handovers,
    deadline_acts,
    intake_keys,
    stats_daily,
    dossier_papers,
    dossier_events,
    intake_outcomes,
    audit_log,
    audit_streams,
    audit_checkpoints,
    agency_levels,
    agencies,
    procedures,
    procedure_versions,
    instance_facts
);

diesel::table! {
    instance_facts (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    /// Notifications waiting to be sent, sent, parked or not reachable (issue #17).
    outbox (id) {
        id -> BigInt,
        message_key -> Text,
        template -> Text,
        channel -> Text,
        recipient -> Nullable<Text>,
        dossier_code -> Nullable<Text>,
        agency_code -> Nullable<Text>,
        vars -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        message_id -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    /// Every attempt to send an outbox row.
    outbox_attempts (outbox_id, attempt) {
        outbox_id -> BigInt,
        attempt -> Integer,
        worker -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ok -> Nullable<Bool>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(outbox_attempts -> outbox (outbox_id));
diesel::allow_tables_to_appear_in_same_query!(outbox, outbox_attempts);

diesel::table! {
    /// Petitions (*phản ánh, kiến nghị*), issue #17.
    petitions (code) {
        code -> Text,
        kind -> Text,
        submitted_at -> Timestamp,
        submitter_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        agency_code -> Text,
        dossier_code -> Nullable<Text>,
        body -> Text,
        pin_hash -> Text,
        answer_within -> Text,
        due_at -> Timestamp,
        status -> Text,
        assignee -> Nullable<Text>,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        answered_by -> Nullable<Text>,
        outcome -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}
