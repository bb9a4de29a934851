using ParquetSharp;

namespace ClinicalTrials.Lake.Silver;

/// <summary>Silver <c>processed/vital_signs</c>: one row per message, with derived pulse pressure, MAP and shock index.</summary>
internal sealed class VitalTable() : SilverTable<VitalRow>(
[
    new Column<double?>("systolic_bp"), new Column<double?>("diastolic_bp"), new Column<double?>("heart_rate"),
    new Column<double?>("temperature_celsius"), new Column<double?>("oxygen_saturation"), new Column<double?>("respiratory_rate"),
    new Column<double?>("pulse_pressure"), new Column<double?>("mean_arterial_pressure"), new Column<double?>("shock_index"),
    new Column<double?>("mean_arterial_pressure_measured"), new Column<double?>("etco2"),
])
{
    public static readonly VitalTable Instance = new();

    protected override void WritePayload(RowGroupWriter g, ReadOnlySpan<VitalRow> rows)
    {
        Put(g, rows, r => r.SystolicBp);
        Put(g, rows, r => r.DiastolicBp);
        Put(g, rows, r => r.HeartRate);
        Put(g, rows, r => r.TemperatureCelsius);
        Put(g, rows, r => r.OxygenSaturation);
        Put(g, rows, r => r.RespiratoryRate);
        Put(g, rows, r => r.PulsePressure);
        Put(g, rows, r => r.MeanArterialPressure);
        Put(g, rows, r => r.ShockIndex);
        Put(g, rows, r => r.MeasuredMeanArterialPressure);
        Put(g, rows, r => r.EndTidalCo2);
    }

    protected override VitalRow[] ReadPayload(RowGroupReader g, SilverEnvelope[] e)
    {
        var n = e.Length;
        var (sys, dia, hr, temp, sat, resp) = (Payload<double?>(g, 0, n), Payload<double?>(g, 1, n), Payload<double?>(g, 2, n),
            Payload<double?>(g, 3, n), Payload<double?>(g, 4, n), Payload<double?>(g, 5, n));
        var (measuredMap, etco2) = (Payload<double?>(g, 9, n), Payload<double?>(g, 10, n));
        var rows = new VitalRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new VitalRow(e[i].MessageId, e[i].PatientId, e[i].Timestamp, e[i].SiteId, e[i].StudyPhase, e[i].ReceivedAt,
                sys[i], dia[i], hr[i], temp[i], sat[i], resp[i])
            {
                MeasuredMeanArterialPressure = measuredMap[i], EndTidalCo2 = etco2[i],
            };
        }

        return rows;
    }
}

/// <summary>
/// Silver <c>processed/lab_results</c>: one row per test result, standard value and unit beside the ones sent; a
/// qualitative answer in <c>result_text</c>; <c>flag</c> says why a value is not standardised (unknown_test, unknown_unit).
/// </summary>
internal sealed class LabTable() : SilverTable<LabRow>(
[
    new Column<string>("test_code"), new Column<double?>("value"), new Column<string>("unit"),
    new Column<double?>("original_value"), new Column<string>("original_unit"),
    new Column<string>("result_text"), new Column<string>("specimen"), new Column<string>("flag"),
])
{
    public static readonly LabTable Instance = new();

    protected override void WritePayload(RowGroupWriter g, ReadOnlySpan<LabRow> rows)
    {
        Put(g, rows, r => r.TestCode);
        Put(g, rows, r => r.Value);
        Put(g, rows, r => r.Unit);
        Put(g, rows, r => r.OriginalValue);
        Put(g, rows, r => r.OriginalUnit);
        Put(g, rows, r => r.Text);
        Put(g, rows, r => r.Specimen);
        Put(g, rows, r => r.Flag);
    }

    protected override LabRow[] ReadPayload(RowGroupReader g, SilverEnvelope[] e)
    {
        var n = e.Length;
        var (code, value, unit, originalValue, originalUnit) = (Payload<string>(g, 0, n), Payload<double?>(g, 1, n), Payload<string?>(g, 2, n),
            Payload<double?>(g, 3, n), Payload<string?>(g, 4, n));
        var (text, specimen, flag) = (Payload<string?>(g, 5, n), Payload<string?>(g, 6, n), Payload<string?>(g, 7, n));
        var rows = new LabRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new LabRow(e[i].MessageId, e[i].PatientId, e[i].Timestamp, e[i].SiteId, e[i].StudyPhase, e[i].ReceivedAt,
                code[i], value[i], unit[i], originalValue[i], originalUnit[i])
            {
                Text = text[i], Specimen = specimen[i], Flag = flag[i],
            };
        }

        return rows;
    }
}

/// <summary>Silver <c>processed/patient_demographics</c>: one row per message, with BMI.</summary>
internal sealed class DemographicsTable() : SilverTable<DemographicsRow>(
[
    new Column<int>("age"), new Column<string>("gender"), new Column<double?>("weight_kg"), new Column<double?>("height_cm"),
    new Column<double?>("bmi"), new Column<Date>("enrollment_date"), new Column<string>("trial_arm"),
])
{
    public static readonly DemographicsTable Instance = new();

    protected override void WritePayload(RowGroupWriter g, ReadOnlySpan<DemographicsRow> rows)
    {
        Put(g, rows, r => r.Age);
        Put(g, rows, r => r.Gender);
        Put(g, rows, r => r.WeightKg);
        Put(g, rows, r => r.HeightCm);
        Put(g, rows, r => r.Bmi);
        Put(g, rows, r => new Date(r.EnrollmentDate.Year, r.EnrollmentDate.Month, r.EnrollmentDate.Day));
        Put(g, rows, r => r.TrialArm);
    }

    protected override DemographicsRow[] ReadPayload(RowGroupReader g, SilverEnvelope[] e)
    {
        var n = e.Length;
        // Column 4 (bmi) is derived from weight and height, so it is not read back.
        var (age, gender, weight, height, enrollment, arm) = (Payload<int>(g, 0, n), Payload<string>(g, 1, n), Payload<double?>(g, 2, n),
            Payload<double?>(g, 3, n), Payload<Date>(g, 5, n), Payload<string>(g, 6, n));
        var rows = new DemographicsRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new DemographicsRow(e[i].MessageId, e[i].PatientId, e[i].Timestamp, e[i].SiteId, e[i].StudyPhase, e[i].ReceivedAt,
                age[i], gender[i], weight[i], height[i], DateOnly.FromDateTime(enrollment[i].DateTime), arm[i]);
        }

        return rows;
    }
}

/// <summary>Silver <c>processed/adverse_event</c>: one row per message; onset kept beside the report time.</summary>
internal sealed class AdverseEventTable() : SilverTable<AdverseEventRow>(
[
    new Column<string>("event_term"), new Column<string>("severity"), new Column<bool>("serious"),
    new Column<string>("relation_to_study_drug"), TimestampColumn("onset"),
])
{
    public static readonly AdverseEventTable Instance = new();

    protected override void WritePayload(RowGroupWriter g, ReadOnlySpan<AdverseEventRow> rows)
    {
        Put(g, rows, r => r.EventTerm);
        Put(g, rows, r => r.Severity);
        Put(g, rows, r => r.Serious);
        Put(g, rows, r => r.RelationToStudyDrug);
        Put(g, rows, r => r.Onset);
    }

    protected override AdverseEventRow[] ReadPayload(RowGroupReader g, SilverEnvelope[] e)
    {
        var n = e.Length;
        var (term, severity, serious, relation, onset) = (Payload<string>(g, 0, n), Payload<string>(g, 1, n), Payload<bool>(g, 2, n),
            Payload<string>(g, 3, n), Payload<DateTime>(g, 4, n));
        var rows = new AdverseEventRow[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new AdverseEventRow(e[i].MessageId, e[i].PatientId, e[i].Timestamp, e[i].SiteId, e[i].StudyPhase, e[i].ReceivedAt,
                term[i], severity[i], serious[i], relation[i], Utc(onset[i]));
        }

        return rows;
    }
}
