using ClinicalTrials.Domain.Features;
using static ClinicalTrials.Domain.Tests.Features.TestMessages;

namespace ClinicalTrials.Domain.Tests.Features;

public sealed class ChangeFeatureTests
{
    [Fact]
    public void Change_is_the_latest_value_minus_the_latest_one_at_or_before_each_lag()
    {
        var vector = FeatureReplay.VectorAt(
        [
            Vitals(T0, heartRate: 80),
            Vitals(T0.AddMinutes(30), heartRate: 85),
            Vitals(T0.AddHours(2), heartRate: 90),
            Vitals(T0.AddHours(2.5), systolic: 120), // a record without a heart rate is passed over
            Vitals(T0.AddHours(4), heartRate: 100),
        ], T0.AddHours(4));

        Assert.Equal(10, vector["heart_rate_change_1h"]); // 100 - 90 (t - 1h = 3:00; latest then 2:00)
        Assert.Equal(15, vector["heart_rate_change_3h"]); // 100 - 85 (t - 3h = 1:00; latest then 0:30)
        Assert.True(double.IsNaN(vector["heart_rate_change_6h"])); // nothing at or before t - 6h
        Assert.Equal(0, vector["systolic_bp_change_1h"]); // its only value, 2:30, is the latest at 3:00 too
        Assert.True(double.IsNaN(vector["systolic_bp_change_3h"])); // but there was none at 1:00
    }

    [Fact]
    public void A_value_exactly_at_the_lag_counts_and_one_exactly_24_hours_old_does_not()
    {
        var labs = new[] { Labs(T0, ("CREAT", 1.0)), Labs(T0.AddHours(5), ("CREAT", 1.6)) };

        var at6h = FeatureReplay.VectorAt(labs, T0.AddHours(6));
        Assert.Equal(0, at6h["creat_change_1h"]); // 1.6 at exactly t - 1h is the value then
        Assert.Equal(0.6, at6h["creat_change_3h"], 12);
        Assert.Equal(0.6, at6h["creat_change_6h"], 12);

        var at24h = FeatureReplay.VectorAt([Vitals(T0, heartRate: 80), Vitals(T0.AddHours(24), heartRate: 95)], T0.AddHours(24));
        Assert.True(double.IsNaN(at24h["heart_rate_change_1h"]));
    }

    [Fact]
    public void Only_the_vitals_and_the_six_key_labs_have_changes()
    {
        Assert.Contains("plat_change_6h", FeatureCatalogue.Names);
        Assert.DoesNotContain("fio2_change_1h", FeatureCatalogue.Names);
        Assert.Equal((6 + 6) * 3, FeatureCatalogue.Names.Count(n => n.Contains("_change_", StringComparison.Ordinal)));
    }
}
