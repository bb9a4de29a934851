// The offline trainer (offline features -> model -> ONNX) arrives with the ML work; until then it says so plainly.
Console.Error.WriteLine("The trainer is not built yet: training needs the offline feature store. See README.md, 'Roadmap'.");
return 2;
