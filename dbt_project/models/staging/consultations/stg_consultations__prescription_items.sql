with

source as (
    select * from {{ lake_source('consultations', 'lake_raw') }}
),

renamed as (
    select
        consultation_id,
        rx_line_no,
        business_date,
        consult_ts,
        member_id,
        patient_phone_token,
        patient_phone_masked,
        patient_name_token,
        patient_name_masked,
        patient_id_number_token,
        patient_id_number_masked,
        patient_id_number_valid,
        doctor_id,
        doctor_license_no,
        hospital_id,
        diagnosis_code,
        prescription_id,
        rx_sku,
        rx_max_qty,
        rx_valid_until,
        consultation_fee,
        _source_file as source_file,
        _source_row_number as source_row_number
    from source
)

select * from renamed
