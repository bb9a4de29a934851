using ClinicalTrials.Lake.Parquet;
using ParquetSharp;

namespace ClinicalTrials.Lake.Silver;

/// <summary>Silver <c>processed/vital_signs</c>: one row per message, with derived pulse pressure, MAP and shock index.</summary>
internal sealed class VitalTable : ParquetTable<VitalRow>
{
    public static readonly VitalTable Instance = new();

    public override Column[] Columns { get; } =
    [
        new Column<string>("message_id"), new Column<string>("patient_id"), TimestampColumn("timestamp"), new Column<string>("site_id"),
        new Column<int>("study_phase"), TimestampColumn("received_at"),
        new Column<double?>("systolic_bp"), new Column<double?>("diastolic_bp"), new Column<double?>("heart_rate"),
        new Column<double?>("temperature_celsius"), new Column<double?>("oxygen_saturation"), new Column<double?>("respiratory_rate"),
        new Column<double?>("pulse_pressure"), new Column<double?>("mean_arterial_pressure"), new Column<double?>("shock_index"),
    ];

    protected override void WriteColumns(RowGroupWriter g, VitalRow[] rows)
    {
        Put(g, rows, r => r.MessageId.ToString());
        Put(g, rows, r => r.PatientId);
        Put(g, rows, r => r.Timestamp);
        Put(g, rows, r => r.SiteId);
        Put(g, rows, r => r.StudyPhase);
        Put(g, rows, r => r.ReceivedAt);
        Put(g, rows, r => r.SystolicBp);
        Put(g, rows, r => r.DiastolicBp);
        Put(g, rows, r => r.HeartRate);
        Put(g, rows, r => r.TemperatureCelsius);
        Put(g, rows, r => r.OxygenSaturation);
        Put(g, rows, r => r.RespiratoryRate);
        Put(g, rows, r => r.PulsePressure);
        Put(g, rows, r => r.MeanArterialPressure);
        Put(g, rows, r => r.ShockIndex);
    }

    protected override VitalRow[] ReadColumns(RowGroupReader g, int n)
    {
        var (id, patient, time, site, phase, received) = (Get<string>(g, 0, n), Get<string>(g, 1, n), Get<DateTime>(g, 2, n),
            Get<string>(g, 3, n), Get<int>(g, 4, n), Get<DateTime>(g, 5, n));
        var (sys, dia, hr, temp, sat, resp) = (Get<double?>(g, 6, n), Get<double?>(g, 7, n), Get<double?>(g, 8, n),
            Get<double?>(g, 9, n), Get<double?>(g, 10, n), Get<double?>(g, 11, n));
        var rows = new VitalRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new VitalRow(Guid.Parse(id[i]), patient[i], Utc(time[i]), site[i], phase[i], Utc(received[i]),
                sys[i], dia[i], hr[i], temp[i], sat[i], resp[i]);
        }

        return rows;
    }
}

/// <summary>Silver <c>processed/lab_results</c>: one row per test result, standard value and unit beside the ones sent.</summary>
internal sealed class LabTable : ParquetTable<LabRow>
{
    public static readonly LabTable Instance = new();

    public override Column[] Columns { get; } =
    [
        new Column<string>("message_id"), new Column<string>("patient_id"), TimestampColumn("timestamp"), new Column<string>("site_id"),
        new Column<int>("study_phase"), TimestampColumn("received_at"),
        new Column<string>("test_code"), new Column<double>("value"), new Column<string>("unit"),
        new Column<double>("original_value"), new Column<string>("original_unit"),
    ];

    protected override void WriteColumns(RowGroupWriter g, LabRow[] rows)
    {
        Put(g, rows, r => r.MessageId.ToString());
        Put(g, rows, r => r.PatientId);
        Put(g, rows, r => r.Timestamp);
        Put(g, rows, r => r.SiteId);
        Put(g, rows, r => r.StudyPhase);
        Put(g, rows, r => r.ReceivedAt);
        Put(g, rows, r => r.TestCode);
        Put(g, rows, r => r.Value);
        Put(g, rows, r => r.Unit);
        Put(g, rows, r => r.OriginalValue);
        Put(g, rows, r => r.OriginalUnit);
    }

    protected override LabRow[] ReadColumns(RowGroupReader g, int n)
    {
        var (id, patient, time, site, phase, received) = (Get<string>(g, 0, n), Get<string>(g, 1, n), Get<DateTime>(g, 2, n),
            Get<string>(g, 3, n), Get<int>(g, 4, n), Get<DateTime>(g, 5, n));
        var (code, value, unit, originalValue, originalUnit) = (Get<string>(g, 6, n), Get<double>(g, 7, n), Get<string>(g, 8, n),
            Get<double>(g, 9, n), Get<string>(g, 10, n));
        var rows = new LabRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new LabRow(Guid.Parse(id[i]), patient[i], Utc(time[i]), site[i], phase[i], Utc(received[i]),
                code[i], value[i], unit[i], originalValue[i], originalUnit[i]);
        }

        return rows;
    }
}

/// <summary>Silver <c>processed/patient_demographics</c>: one row per message, with BMI.</summary>
internal sealed class DemographicsTable : ParquetTable<DemographicsRow>
{
    public static readonly DemographicsTable Instance = new();

    public override Column[] Columns { get; } =
    [
        new Column<string>("message_id"), new Column<string>("patient_id"), TimestampColumn("timestamp"), new Column<string>("site_id"),
        new Column<int>("study_phase"), TimestampColumn("received_at"),
        new Column<int>("age"), new Column<string>("gender"), new Column<double>("weight_kg"), new Column<double>("height_cm"),
        new Column<double>("bmi"), new Column<Date>("enrollment_date"), new Column<string>("trial_arm"),
    ];

    protected override void WriteColumns(RowGroupWriter g, DemographicsRow[] rows)
    {
        Put(g, rows, r => r.MessageId.ToString());
        Put(g, rows, r => r.PatientId);
        Put(g, rows, r => r.Timestamp);
        Put(g, rows, r => r.SiteId);
        Put(g, rows, r => r.StudyPhase);
        Put(g, rows, r => r.ReceivedAt);
        Put(g, rows, r => r.Age);
        Put(g, rows, r => r.Gender);
        Put(g, rows, r => r.WeightKg);
        Put(g, rows, r => r.HeightCm);
        Put(g, rows, r => r.Bmi);
        Put(g, rows, r => new Date(r.EnrollmentDate.Year, r.EnrollmentDate.Month, r.EnrollmentDate.Day));
        Put(g, rows, r => r.TrialArm);
    }

    protected override DemographicsRow[] ReadColumns(RowGroupReader g, int n)
    {
        var (id, patient, time, site, phase, received) = (Get<string>(g, 0, n), Get<string>(g, 1, n), Get<DateTime>(g, 2, n),
            Get<string>(g, 3, n), Get<int>(g, 4, n), Get<DateTime>(g, 5, n));
        var (age, gender, weight, height, enrollment, arm) = (Get<int>(g, 6, n), Get<string>(g, 7, n), Get<double>(g, 8, n),
            Get<double>(g, 9, n), Get<Date>(g, 11, n), Get<string>(g, 12, n));
        var rows = new DemographicsRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new DemographicsRow(Guid.Parse(id[i]), patient[i], Utc(time[i]), site[i], phase[i], Utc(received[i]),
                age[i], gender[i], weight[i], height[i], DateOnly.FromDateTime(enrollment[i].DateTime), arm[i]);
        }

        return rows;
    }
}

/// <summary>Silver <c>processed/adverse_event</c>: one row per message; onset kept beside the report time.</summary>
internal sealed class AdverseEventTable : ParquetTable<AdverseEventRow>
{
    public static readonly AdverseEventTable Instance = new();

    public override Column[] Columns { get; } =
    [
        new Column<string>("message_id"), new Column<string>("patient_id"), TimestampColumn("timestamp"), new Column<string>("site_id"),
        new Column<int>("study_phase"), TimestampColumn("received_at"),
        new Column<string>("event_term"), new Column<string>("severity"), new Column<bool>("serious"),
        new Column<string>("relation_to_study_drug"), TimestampColumn("onset"),
    ];

    protected override void WriteColumns(RowGroupWriter g, AdverseEventRow[] rows)
    {
        Put(g, rows, r => r.MessageId.ToString());
        Put(g, rows, r => r.PatientId);
        Put(g, rows, r => r.Timestamp);
        Put(g, rows, r => r.SiteId);
        Put(g, rows, r => r.StudyPhase);
        Put(g, rows, r => r.ReceivedAt);
        Put(g, rows, r => r.EventTerm);
        Put(g, rows, r => r.Severity);
        Put(g, rows, r => r.Serious);
        Put(g, rows, r => r.RelationToStudyDrug);
        Put(g, rows, r => r.Onset);
    }

    protected override AdverseEventRow[] ReadColumns(RowGroupReader g, int n)
    {
        var (id, patient, time, site, phase, received) = (Get<string>(g, 0, n), Get<string>(g, 1, n), Get<DateTime>(g, 2, n),
            Get<string>(g, 3, n), Get<int>(g, 4, n), Get<DateTime>(g, 5, n));
        var (term, severity, serious, relation, onset) = (Get<string>(g, 6, n), Get<string>(g, 7, n), Get<bool>(g, 8, n),
            Get<string>(g, 9, n), Get<DateTime>(g, 10, n));
        var rows = new AdverseEventRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new AdverseEventRow(Guid.Parse(id[i]), patient[i], Utc(time[i]), site[i], phase[i], Utc(received[i]),
                term[i], severity[i], serious[i], relation[i], Utc(onset[i]));
        }

        return rows;
    }
}
