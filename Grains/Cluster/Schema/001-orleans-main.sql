-- The queries Orleans' ADO.NET providers run, by key (Microsoft.Orleans.*.AdoNet with Invariant "Npgsql"). The
-- providers read this table once at start and use nothing else; each query below keeps the parameter and column names
-- and types the providers bind and read (the providers' query contract).
CREATE TABLE OrleansQuery
(
    QueryKey varchar(64) NOT NULL,
    QueryText varchar(8000) NOT NULL,
    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);
