// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title VenueRegistry: regions, venues and their infection states, after Song et al.
/// @notice A region hierarchy (state / county / city / venue path, each region identified by
/// the keccak of its path and pointing to its parent) holds venues (8-byte venue ids) with their
/// public keys. A venue's infection state moves empty -> infected -> clean -> infected ...,
/// each transition with its time (unix seconds) and reason, each emitted as an event, so a
/// gateway's venue registry or an agent's pre-visit query can read the state or follow events.
/// Writers are the admin and the operators (admitted gateways) the admin names.
contract VenueRegistry {
    enum State { Empty, Infected, Clean }

    struct Venue {
        bytes32 region;
        bytes32 publicKey;
        State state;
        uint64 since; // unix seconds of the last transition (or the registration)
        uint8 reason; // the gateway's reason code (visit / report / expiry / signoff)
        bool revoked;
    }

    address public admin;
    mapping(address => bool) public operators;
    mapping(bytes32 region => bytes32 parent) public parentOf;
    mapping(bytes32 region => bool) public regionExists;
    mapping(bytes8 venue => Venue) internal venues_;
    mapping(bytes32 region => bytes8[]) internal venuesIn_;

    event OperatorSet(address indexed operator, bool allowed);
    event RegionAdded(bytes32 indexed region, bytes32 indexed parent, string path);
    event VenueRegistered(bytes8 indexed venue, bytes32 indexed region, bytes32 publicKey);
    event VenueRevoked(bytes8 indexed venue);
    event VenueStateChanged(bytes8 indexed venue, bytes32 indexed region, State state, uint64 since, uint8 reason);

    error NotOperator(address caller);
    error UnknownRegion(bytes32 region);
    error UnknownVenue(bytes8 venue);
    error VenueExists(bytes8 venue);
    error BadTransition(bytes8 venue, State from, State to);
    error TimeGoesBack(bytes8 venue, uint64 since, uint64 at);

    constructor() {
        admin = msg.sender;
    }

    modifier onlyOperator() {
        if (msg.sender != admin && !operators[msg.sender]) revert NotOperator(msg.sender);
        _;
    }

    function setOperator(address operator, bool allowed) external {
        if (msg.sender != admin) revert NotOperator(msg.sender);
        operators[operator] = allowed;
        emit OperatorSet(operator, allowed);
    }

    /// Adds region `path` (e.g. "scotland/edinburgh/edinburgh") under `parent` (0 for a top region).
    function addRegion(string calldata path, bytes32 parent) external onlyOperator returns (bytes32 region) {
        if (parent != bytes32(0) && !regionExists[parent]) revert UnknownRegion(parent);
        region = keccak256(bytes(path));
        if (!regionExists[region]) {
            regionExists[region] = true;
            parentOf[region] = parent;
            emit RegionAdded(region, parent, path);
        }
    }

    function registerVenue(bytes8 venue, bytes32 region, bytes32 publicKey, uint64 at) external onlyOperator {
        if (!regionExists[region]) revert UnknownRegion(region);
        if (venues_[venue].region != bytes32(0)) revert VenueExists(venue);
        venues_[venue] = Venue(region, publicKey, State.Empty, at, 0, false);
        venuesIn_[region].push(venue);
        emit VenueRegistered(venue, region, publicKey);
    }

    function revokeVenue(bytes8 venue) external onlyOperator {
        if (venues_[venue].region == bytes32(0)) revert UnknownVenue(venue);
        venues_[venue].revoked = true;
        emit VenueRevoked(venue);
    }

    /// A transition: to Infected from any state (a later infected visit extends it), to Clean only
    /// from Infected, never back to Empty; times never go back.
    function setState(bytes8 venue, State to, uint64 since, uint8 reason) external onlyOperator {
        Venue storage v = venues_[venue];
        if (v.region == bytes32(0)) revert UnknownVenue(venue);
        if (to == State.Empty || (to == State.Clean && v.state != State.Infected)) revert BadTransition(venue, v.state, to);
        if (since < v.since) revert TimeGoesBack(venue, v.since, since);
        v.state = to;
        v.since = since;
        v.reason = reason;
        emit VenueStateChanged(venue, v.region, to, since, reason);
    }

    function venue(bytes8 id) external view returns (Venue memory) {
        return venues_[id];
    }

    function venuesIn(bytes32 region) external view returns (bytes8[] memory) {
        return venuesIn_[region];
    }
}
