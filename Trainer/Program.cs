using ClinicalTrials.Trainer;

return await TrainerCommandLine.Create().Parse(args).InvokeAsync();
