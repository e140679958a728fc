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

diesel::joinable!(procedure_versions -> procedures (procedure_code));

diesel::allow_tables_to_appear_in_same_query!(
    agency_levels,
    agencies,
    procedures,
    procedure_versions
);
